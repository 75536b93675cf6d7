// make bundle with Gatekeeper sources: bad templates and Constraints are
// refused with the template's (or Constraint's) name and the reason, and
// nothing is written; a good one builds a bundle with the generated
// entrypoints.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOpa } from '../policytest/opa.js';
import { buildBundle } from './build.js';

const root = path.resolve(import.meta.dirname, '../..');
const opa = findOpa(root);
const work = mkdtempSync(path.join(tmpdir(), 'belay-build-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const template = (name: string, rego: string, extra = '') => `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: ${name.toLowerCase()}
spec:
  crd:
    spec:
      names:
        kind: ${name}
      validation:
        openAPIV3Schema:
          type: object
          properties:
            max: {type: integer}
  targets:
    - target: admission.k8s.gatekeeper.sh
${extra}      rego: |
${rego
  .split('\n')
  .map((l) => `        ${l}`)
  .join('\n')}
`;

const constraint = (kind: string, params = '{}') => `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: ${kind}
metadata:
  name: c1
spec:
  parameters: ${params}
`;

let n = 0;
async function build(files: Record<string, string>): Promise<{ out: string; error?: string }> {
  const dir = path.join(work, `p${n++}`);
  mkdirSync(path.join(dir, 'lib'), { recursive: true });
  writeFileSync(
    path.join(dir, 'lib', 'gatekeeper.rego'),
    await import('node:fs').then((fs) => fs.readFileSync(path.join(root, 'policies/lib/gatekeeper.rego'), 'utf8')),
  );
  mkdirSync(path.join(dir, 'gatekeeper'));
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, 'gatekeeper', f), text);
  const out = path.join(dir, 'bundle.tar.gz');
  try {
    await buildBundle({ opa, policies: dir, out, revision: 't' });
    return { out };
  } catch (err) {
    return { out, error: (err as Error).message };
  }
}

const good = 'package k\nviolation[{"msg": msg}] {\n  input.review.object.spec.replicas > input.parameters.max\n  msg := "too many"\n}';

describe('make bundle with Gatekeeper sources', () => {
  it('builds a good template with its Constraint', async () => {
    const r = await build({ 't.yaml': template('K8sMax', good), 'c.yaml': constraint('K8sMax', '{max: 3}') });
    expect(r.error).toBeUndefined();
    expect(existsSync(r.out)).toBe(true);
  }, 120_000);

  it('names a template that does not compile, and writes nothing', async () => {
    const r = await build({ 't.yaml': template('K8sBroken', 'package k\nviolation[{"msg": msg}] {\n  msg := \n}') });
    expect(r.error).toMatch(/ConstraintTemplate k8sbroken \(.*t\.yaml\), rego line \d+: rego_parse_error/);
    expect(existsSync(r.out)).toBe(false);
  }, 120_000);

  it('names a template that calls a built-in nobody provides', async () => {
    const r = await build({
      't.yaml': template(
        'K8sCert',
        'package k\nviolation[{"msg": msg}] {\n  c := crypto.x509.parse_certificates(input.review.object.data.pem)\n  msg := sprintf("%v", [c])\n}',
      ),
    });
    expect(r.error).toMatch(/ConstraintTemplate k8scert calls crypto\.x509\.parse_certificates/);
    expect(existsSync(r.out)).toBe(false);
  }, 120_000);

  it('names a template whose lib is missing', async () => {
    const r = await build({
      't.yaml': template('K8sLib', 'package k\nimport data.lib.helpers\nviolation[{"msg": msg}] {\n  helpers.bad(input.review.object)\n  msg := "x"\n}'),
    });
    expect(r.error).toMatch(/ConstraintTemplate k8slib \(.*\), rego line \d+: .*(undefined|unsafe|helpers)/);
  }, 120_000);

  it('refuses a lib outside package lib, and data other than data.inventory', async () => {
    const lib = template('K8sBadLib', good, '      libs:\n        - |\n          package helpers\n          x := 1\n');
    expect((await build({ 't.yaml': lib })).error).toMatch(/k8sbadlib .*lib 1 has package helpers; a lib's package must start with lib/);
    const data = template('K8sData', 'package k\nviolation[{"msg": msg}] {\n  data.secrets.x\n  msg := "x"\n}');
    expect((await build({ 't.yaml': data })).error).toMatch(/k8sdata .*reads data\.secrets; a template may only read data\.inventory/);
  }, 120_000);

  it('refuses a Constraint of an unknown kind, or with parameters the schema refuses', async () => {
    const unknown = await build({ 't.yaml': template('K8sMax', good), 'c.yaml': constraint('K8sMin') });
    expect(unknown.error).toMatch(/Constraint K8sMin\/c1: no ConstraintTemplate defines kind K8sMin \(known kinds: K8sMax\)/);
    const bad = await build({ 't.yaml': template('K8sMax', good), 'c.yaml': constraint('K8sMax', '{max: "three"}') });
    expect(bad.error).toMatch(/Constraint K8sMax\/c1: parameters do not fit the schema of ConstraintTemplate k8smax: parameters\.max: must be a integer/);
  }, 120_000);
});

describe('a template whose evaluation fails', () => {
  it('fails the evaluation (closed) with an error naming the Constraint', async () => {
    const { cpSync, readFileSync } = await import('node:fs');
    const { parseBundle } = await import('./bundle.js');
    const { compilePolicy } = await import('../policy/wasm.js');
    const dir = path.join(work, 'conflict');
    cpSync(path.join(root, 'policies'), dir, {
      recursive: true,
      filter: (s) => !s.includes(`${path.sep}gatekeeper${path.sep}`) && !s.endsWith(`${path.sep}gatekeeper`),
    });
    mkdirSync(path.join(dir, 'gatekeeper'));
    // Two values for one complete rule: an evaluation error at run time, as in OPA.
    const rego = 'package k\nname = n { n := input.review.object.metadata.name }\nname = "other" { true }\nviolation[{"msg": name}] { true }';
    writeFileSync(path.join(dir, 'gatekeeper', 't.yaml'), template('K8sConflict', rego));
    writeFileSync(path.join(dir, 'gatekeeper', 'c.yaml'), constraint('K8sConflict'));
    const out = path.join(dir, 'b.tar.gz');
    await buildBundle({ opa, policies: dir, out, revision: 't' });
    const policy = await compilePolicy(await parseBundle(readFileSync(out)));
    const input = {
      face: 'admission',
      actor: { username: 'system:serviceaccount:agents:bot', groups: [], extra: {}, agent: true, serviceAccount: null },
      action: { operation: 'CREATE', verb: 'create', subresource: '', dryRun: false },
      resource: { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespace: 'default', name: 'cm' },
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' } },
      oldObject: null,
      options: null,
      dryRun: false,
      namespace: { name: 'default', labels: {} },
      context: {},
      tool: null,
      content: null,
    } as const;
    expect(() => policy.evaluate('admission', input as never)).toThrow(
      /evaluating belay\/admission\/decision failed in Constraint K8sConflict\/c1 \(ConstraintTemplate k8sconflict\)/,
    );
  }, 120_000);
});
