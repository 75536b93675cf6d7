// The fields left out of the policy's input are really unread: no Rego the
// admission face can reach (policies/, the Gatekeeper templates belay's
// bundle carries, and their library) names them, and the compiled bundle
// decides every request of the bench's mix — kubectl-applied objects with
// managedFields and the last-applied annotation — the same with them, without
// them, and with hostile values planted in them.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildMix } from '../../bench/mix.js';
import { parseBundle } from '../bundle/bundle.js';
import type { JsonObject, PolicyInput } from '../contract/index.js';
import { agentSelectorFromData } from '../identity/agents.js';
import { namesOnly } from '../namespaces/directory.js';
import { type CompiledPolicy, compilePolicy } from '../policy/wasm.js';
import { type AdmissionRequest, admissionInput } from './admission.js';
import { LAST_APPLIED, UNREAD_BY_POLICY, withoutUnread } from './unread.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('withoutUnread', () => {
  const object = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'p',
      managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
      annotations: { [LAST_APPLIED]: '{"kind":"Pod"}', 'belay.dev/workflow': 'w' },
      labels: { app: 'a' },
    },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  };

  it('drops every listed field and keeps the rest, in order, without touching the original', () => {
    const copy = structuredClone(object);
    const out = withoutUnread(object);
    expect(out).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', annotations: { 'belay.dev/workflow': 'w' }, labels: { app: 'a' } },
      spec: { containers: [{ name: 'c', image: 'i' }] },
    });
    expect(Object.keys(out.metadata)).toEqual(['name', 'annotations', 'labels']);
    expect(object).toEqual(copy);
    // What is not on the way to a removed field is shared, not copied.
    expect(out.spec).toBe(object.spec);
  });

  it('keeps a parent that becomes empty, so a fix adding under it patches the real one', () => {
    const out = withoutUnread({ metadata: { name: 'p', annotations: { [LAST_APPLIED]: '{}' } } });
    expect(out).toEqual({ metadata: { name: 'p', annotations: {} } });
  });

  it('returns the object itself when there is nothing to leave out, and null for null', () => {
    const plain = { metadata: { name: 'p', annotations: { a: 'b' } }, spec: {} };
    expect(withoutUnread(plain)).toBe(plain);
    expect(withoutUnread(null)).toBeNull();
    const odd = { metadata: 'not an object' };
    expect(withoutUnread(odd)).toBe(odd);
  });

  it('is what the admission input carries, for object and oldObject', () => {
    const req: AdmissionRequest = {
      uid: 'u',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'UPDATE',
      userInfo: { username: 'system:serviceaccount:agents:a' },
      object,
      oldObject: object,
    };
    const input = admissionInput(req, agentSelectorFromData({}), null);
    for (const o of [input.object, input.oldObject]) {
      const meta = o!.metadata as JsonObject;
      expect(meta.managedFields).toBeUndefined();
      expect((meta.annotations as JsonObject)[LAST_APPLIED]).toBeUndefined();
    }
  });
});

/** Every non-test Rego module under `dir`, and the Rego inside the Gatekeeper YAML. */
function regoSources(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) out.push(...regoSources(file));
    else if (name.endsWith('.rego') && !name.endsWith('_test.rego')) out.push({ file, text: readFileSync(file, 'utf8') });
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const targets = (doc.toJS() as { spec?: { targets?: { rego?: string; libs?: string[] }[] } } | null)?.spec?.targets ?? [];
        for (const t of targets) for (const text of [t.rego ?? '', ...(t.libs ?? [])]) out.push({ file, text });
      }
    }
  }
  return out;
}

describe('no admission rule reads a field the input leaves out', () => {
  // The tool-result face redacts the last-applied annotation of objects an
  // agent reads back; its input is built apart (src/input/toolresult.ts) and keeps it.
  const OTHER_FACES = [path.join(root, 'policies/toolresult')];

  it('no Rego names one (policies/, its Gatekeeper templates and their libs)', () => {
    const sources = regoSources(path.join(root, 'policies')).filter((s) => !OTHER_FACES.some((d) => s.file.startsWith(d)));
    expect(sources.some((s) => s.file.endsWith('podspec.rego'))).toBe(true);
    expect(sources.some((s) => s.file.endsWith('.yaml'))).toBe(true);
    const names = UNREAD_BY_POLICY.map((p) => p[p.length - 1]!);
    const found = sources.flatMap((s) => names.filter((n) => s.text.includes(n)).map((n) => `${path.relative(root, s.file)} names ${n}`));
    expect(found).toEqual([]);
  });

  let policy: CompiledPolicy;
  let inputs: PolicyInput[];
  let requests: AdmissionRequest[];
  beforeAll(async () => {
    const bundle = await parseBundle(readFileSync(path.join(root, '.build/bundle.tar.gz')));
    policy = await compilePolicy(bundle);
    const agents = agentSelectorFromData(bundle.data);
    requests = buildMix(200).map((m) => (JSON.parse(m.body) as { request: AdmissionRequest }).request);
    inputs = requests.map((r) => admissionInput(r, agents, namesOnly.lookup(r.namespace ?? '')));
  });

  /** A hostile value for each left-out field: a privileged, hostPath, secret-carrying object, as text and as JSON. */
  function planted(object: JsonObject | null): JsonObject | null {
    if (!object) return null;
    const evil = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'evil', annotations: { 'belay.dev/workflow': 'other', 'belay.dev/confidence': '0.01' } },
      spec: {
        hostNetwork: true,
        containers: [{ name: 'x', image: 'x', securityContext: { privileged: true }, env: [{ name: 'K', value: 'AKIAIOSFODNN7EXAMPLE' }] }],
        volumes: [{ name: 'h', hostPath: { path: '/' } }],
      },
    };
    const meta = (object.metadata ?? {}) as JsonObject;
    return {
      ...object,
      metadata: {
        ...meta,
        managedFields: [{ manager: 'evil', operation: 'Apply', fieldsV1: evil as unknown as JsonObject }],
        annotations: { ...((meta.annotations as JsonObject) ?? {}), [LAST_APPLIED]: JSON.stringify(evil) },
      },
    };
  }

  it('the bundle decides the mix alike with the fields, without them, and with hostile values in them', () => {
    let compared = 0;
    inputs.forEach((input, i) => {
      const req = requests[i]!;
      const as = (object: JsonObject | null, oldObject: JsonObject | null) => policy.evaluate('admission', { ...input, object, oldObject });
      const without = as(input.object, input.oldObject);
      expect(as(req.object ?? null, req.oldObject ?? null), `mix ${i} as sent`).toEqual(without);
      expect(as(planted(req.object ?? null), planted(req.oldObject ?? null)), `mix ${i} with hostile values`).toEqual(without);
      compared++;
    });
    expect(compared).toBe(200);
    // The mix does carry the fields (else this compares nothing).
    expect(requests.filter((r) => (r.object?.metadata as JsonObject | undefined)?.managedFields).length).toBeGreaterThan(50);
  });
});
