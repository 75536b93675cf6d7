import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { belay } from '../../testkit/cli.js';
import { buildBundle, TEST_POLICY_DIR, writeTree } from '../../testkit/opa-bundle.js';

// The testkit policy: labels pick the answer; test/fix=yes is fixed by adding label fixed=true.
const MANIFESTS = `# Two documents; the first needs a fix.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # keep this comment
  labels:
    test/fix: "yes"
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
# untouched, byte for byte
apiVersion: v1
kind:   ConfigMap
metadata: {name: plain}
data: {a: "1"}
`;

let dir: string;
let bundle: string;
beforeAll(() => {
  dir = writeTree({
    'deny.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nope\n  labels: {test/decision: deny}\n',
    'list.json': JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { 'test/fix': 'yes' } } }],
    }),
    'junk.yaml': 'just: a mapping\n',
  });
  bundle = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundle, buildBundle(TEST_POLICY_DIR));
});

describe('belay check', () => {
  it('reports an object that needs fixes and one that is denied; exit 1', async () => {
    writeFileSync(path.join(dir, 'm.yaml'), MANIFESTS);
    const r = await belay('check', '--bundle', bundle, '--no-color', path.join(dir, 'm.yaml'), path.join(dir, 'deny.yaml'));
    expect(r.code).toBe(1);
    expect(r.out).toContain('FAIL Deployment default/web');
    expect(r.out).toContain('admitted only with fixes (run with --fix to write them)');
    expect(r.out).toContain('PASS ConfigMap default/plain');
    expect(r.out).toContain('denied: ConfigMap nope is labelled deny [rule test.deny]');
    expect(readFileSync(path.join(dir, 'm.yaml'), 'utf8')).toBe(MANIFESTS);
  });

  it('--fix writes the fix into the YAML, keeping comments, layout and untouched documents', async () => {
    const file = path.join(dir, 'fixme.yaml');
    writeFileSync(file, MANIFESTS);
    const r = await belay('check', '--bundle', bundle, '--fix', '-n', 'team-a', file);
    expect(r.code).toBe(0);
    const fixed = readFileSync(file, 'utf8');
    expect(fixed).toContain('  name: web # keep this comment\n  labels:\n    test/fix: "yes"\n    fixed: "true"\n');
    expect(fixed).toContain('      containers:\n      - name: web\n'); // sequences stay flush with their key
    expect(fixed.endsWith('---\n# untouched, byte for byte\napiVersion: v1\nkind:   ConfigMap\nmetadata: {name: plain}\ndata: {a: "1"}\n')).toBe(true);
    const again = await belay('check', '--bundle', bundle, '-n', 'team-a', file);
    expect(again.code).toBe(0);
  });

  it('checks List items in JSON and fixes them; refuses documents that are not objects', async () => {
    const r = await belay('check', '--bundle', bundle, '--fix', '-o', 'json', path.join(dir, 'list.json'), path.join(dir, 'junk.yaml'));
    const doc = JSON.parse(r.out);
    expect(doc.results.map((i: { name: string; status: string }) => [i.name, i.status])).toEqual([
      ['ConfigMap default/a (item 1) — fixed', 'pass'],
      ['? (unnamed)', 'error'],
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(readFileSync(path.join(dir, 'list.json'), 'utf8')).items[0].metadata.labels).toEqual({ 'test/fix': 'yes', fixed: 'true' });
  });

  it('exits 2 without a bundle or files', async () => {
    expect((await belay('check', '--bundle', path.join(dir, 'none.tar.gz'), path.join(dir, 'deny.yaml'))).code).toBe(2);
    expect((await belay('check', '--bundle', bundle, path.join(dir, 'absent.yaml'))).code).toBe(2);
    expect((await belay('check')).code).toBe(2);
  });
});
