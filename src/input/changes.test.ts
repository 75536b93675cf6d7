// The changed paths of an UPDATE never miss a change, and the policy decides
// every UPDATE the same with them as by comparing the objects itself (which
// it does when an input carries none).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildMix } from '../../bench/mix.js';
import { parseBundle } from '../bundle/bundle.js';
import type { JsonObject, PolicyInput } from '../contract/index.js';
import { type AgentSelector, agentSelectorFromData } from '../identity/agents.js';
import { namesOnly } from '../namespaces/directory.js';
import { type CompiledPolicy, compilePolicy } from '../policy/wasm.js';
import { type AdmissionRequest, admissionInput } from './admission.js';
import { changedPaths, type JsonPath, MAX_CHANGES } from './changes.js';

const root = path.resolve(import.meta.dirname, '../..');

function at(v: unknown, p: JsonPath): unknown {
  let x = v;
  for (const k of p) {
    if (typeof x !== 'object' || x === null) return undefined;
    x = (x as Record<string | number, unknown>)[k];
  }
  return x;
}

/** Every path to a leaf (or an empty container) of a JSON value. */
function leaves(v: unknown, p: JsonPath = []): JsonPath[] {
  if (Array.isArray(v)) return v.length ? v.flatMap((x, i) => leaves(x, [...p, i])) : [p];
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v);
    return keys.length ? keys.flatMap((k) => leaves((v as JsonObject)[k], [...p, k])) : [p];
  }
  return [p];
}

const isPrefix = (p: JsonPath, q: JsonPath) => p.length <= q.length && p.every((k, i) => k === q[i]);

describe('changedPaths', () => {
  it('lists where two objects differ, stopping at the first difference', () => {
    const before = { spec: { replicas: 1, template: { spec: { containers: [{ name: 'a', image: 'i:1' }] } } }, status: { x: 1 } };
    const after = { spec: { replicas: 2, template: { spec: { containers: [{ name: 'a', image: 'i:2' }] } } }, extra: true };
    expect(changedPaths(before, after)).toEqual([['spec', 'replicas'], ['spec', 'template', 'spec', 'containers', 0, 'image'], ['status'], ['extra']]);
    // An array of another length, a type change.
    expect(changedPaths({ a: [1, 2], b: { c: 1 } }, { a: [1], b: 'x' })).toEqual([['a'], ['b']]);
    expect(changedPaths({ a: 1 }, { a: 1.0 })).toEqual([]);
    expect(changedPaths({ a: null }, {})).toEqual([['a']]);
  });

  it('gives up (null) past its bound', () => {
    const many = (n: number, v: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, v]));
    expect(changedPaths(many(MAX_CHANGES, 1), many(MAX_CHANGES, 2))).toHaveLength(MAX_CHANGES);
    expect(changedPaths(many(MAX_CHANGES + 1, 1), many(MAX_CHANGES + 1, 2))).toBeNull();
  });

  it('never misses a change: empty exactly when equal, every difference under a listed path, every listed path a difference', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(json, json, fc.boolean(), (a, b0, same) => {
        const b = same ? structuredClone(a) : b0;
        const paths = changedPaths(a, b, 10_000)!;
        expect(paths.length === 0).toBe(isDeepStrictEqual(a, b));
        for (const p of paths) expect(isDeepStrictEqual(at(a, p), at(b, p))).toBe(false);
        for (const leaf of [...leaves(a), ...leaves(b)]) {
          // At or above the leaf; or below it, when the leaf is an empty container the other side filled.
          if (!isDeepStrictEqual(at(a, leaf), at(b, leaf))) expect(paths.some((p) => isPrefix(p, leaf) || isPrefix(leaf, p))).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('the policy decides an UPDATE alike with the changed paths and by comparing', () => {
  let policy: CompiledPolicy;
  let agents: AgentSelector;
  let objects: { req: AdmissionRequest; object: JsonObject }[];
  beforeAll(async () => {
    const bundle = await parseBundle(readFileSync(path.join(root, '.build/bundle.tar.gz')));
    policy = await compilePolicy(bundle);
    agents = agentSelectorFromData(bundle.data);
    objects = buildMix(120)
      .map((m) => (JSON.parse(m.body) as { request: AdmissionRequest }).request)
      .filter((r) => r.object && (r.kind.kind === 'Pod' || r.kind.kind === 'Deployment'))
      .map((req) => ({ req, object: req.object! }));
  });

  /** Changes an agent might make, to the pod spec, the template or elsewhere. */
  const edits: ((o: JsonObject, n: number) => void)[] = [
    (o) => {
      (o.spec as JsonObject).replicas = 7;
    },
    (o, n) => {
      spec(o).activeDeadlineSeconds = n;
    },
    (o, n) => {
      spec(o).tolerations = [{ key: `k${n}`, operator: 'Exists' }];
    },
    (o, n) => {
      containers(o)[0]!.image = `registry.example.com/x:${n}`;
    },
    (o) => {
      spec(o).hostPID = true;
    },
    (o) => {
      containers(o)[0]!.securityContext = { privileged: true };
    },
    (o) => {
      containers(o).push({ name: 'extra', image: 'busybox' });
    },
    (o) => {
      delete containers(o)[0]!.securityContext;
    },
    (o, n) => {
      (o.metadata as JsonObject).labels = { v: String(n) };
    },
    (o, n) => {
      const t = (o.spec as JsonObject).template as JsonObject | undefined;
      if (t) t.metadata = { labels: { v: String(n) } };
    },
    (o, n) => {
      spec(o).initContainers = [{ name: 'init', image: `i:${n}` }];
    },
  ];
  function spec(o: JsonObject): JsonObject {
    const t = (o.spec as JsonObject).template as JsonObject | undefined;
    return (t ? t.spec : o.spec) as JsonObject;
  }
  function containers(o: JsonObject): JsonObject[] {
    return spec(o).containers as JsonObject[];
  }

  it('on generated updates of the mix’s Pods and Deployments', () => {
    let withList = 0;
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.tuple(fc.nat(edits.length - 1), fc.boolean()), { maxLength: 3 }), fc.nat(1000), (pick, chosen, n) => {
        const { req, object } = objects[pick % objects.length]!;
        const before = structuredClone(object);
        const after = structuredClone(object);
        for (const [e, toOld] of chosen) edits[e]!(toOld ? before : after, n);
        const update: AdmissionRequest = { ...req, operation: 'UPDATE', object: after, oldObject: before };
        const input = admissionInput(update, agents, namesOnly.lookup(req.namespace ?? ''));
        if (Array.isArray(input.changed)) withList++;
        const { changed: _changed, ...compared } = input;
        expect(policy.evaluate('admission', input)).toEqual(policy.evaluate('admission', compared as PolicyInput));
      }),
      { numRuns: 300 },
    );
    expect(withList).toBeGreaterThan(250);
  });
});
