// Test support: fast-check arbitraries for what belay's faces are sent — JSON
// of any shape, AdmissionReviews and SubjectAccessReviews (well formed, and
// the same with any field replaced by something else), agent API bodies —
// shared by the property tests and the HTTP fuzz run.

import fc from 'fast-check';

/** Strings that have broken parsers before: quotes, escapes, brackets, unicode, control characters, prototype keys. */
export const nastyString = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.constantFrom('', '__proto__', 'constructor', 'prototype', '\u0000', '\u2028\u2029', '"\\', '[[[', '{{{', 'sha256~', '\uD800', 'null', '-0', '1e999'),
  fc.string({ unit: 'binary', maxLength: 16 }),
);

/** Any JSON value, nested a few levels. */
export const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1.5, Number.MAX_SAFE_INTEGER),
    nastyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

export const AGENT_USER = { username: 'system:serviceaccount:agents:fuzzer', groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] };
export const HUMAN_USER = { username: 'bob', groups: ['developers'] };

/** A privileged Pod: every bundle belay ships denies it to an agent (pss.baseline.privileged). */
export function privilegedPod(name: string, noise: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'team-a', labels: { app: 'fuzz' }, ...noise },
    spec: { containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }] },
  };
}

/** An AdmissionReview the API server could send: an agent or a human creating a privileged Pod, with noise in its metadata. */
export const admissionReview = fc
  .record({
    uid: fc.uuid(),
    agent: fc.boolean(),
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    noise: fc.dictionary(fc.stringMatching(/^[a-z]{1,8}$/), anyJson, { maxKeys: 3 }),
    dryRun: fc.boolean(),
  })
  .map(({ uid, agent, name, noise, dryRun }) => ({
    agent,
    review: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        name,
        namespace: 'team-a',
        operation: 'CREATE',
        userInfo: agent ? AGENT_USER : HUMAN_USER,
        object: privilegedPod(name, { annotations: { fuzz: JSON.stringify(noise).slice(0, 200) } }),
        oldObject: null,
        dryRun,
      },
    } as Record<string, unknown>,
  }));

/** A value at a path of `doc` replaced (a field set to another type, deleted, or added). */
export function mutate(doc: unknown, path: readonly string[], value: unknown): unknown {
  if (path.length === 0) return value;
  if (typeof doc !== 'object' || doc === null) return doc;
  const [head, ...rest] = path;
  const copy: Record<string, unknown> = Array.isArray(doc) ? ({ ...doc } as Record<string, unknown>) : { ...(doc as Record<string, unknown>) };
  if (rest.length === 0 && value === undefined) delete copy[head!];
  else copy[head!] = mutate(copy[head!], rest, value);
  return copy;
}

/** Paths into an AdmissionReview that decoding looks at. */
export const reviewPath = fc.constantFrom(
  [],
  ['kind'],
  ['apiVersion'],
  ['request'],
  ['request', 'uid'],
  ['request', 'operation'],
  ['request', 'kind'],
  ['request', 'kind', 'kind'],
  ['request', 'resource'],
  ['request', 'resource', 'resource'],
  ['request', 'userInfo'],
  ['request', 'userInfo', 'username'],
  ['request', 'userInfo', 'groups'],
  ['request', 'object'],
  ['request', 'oldObject'],
  ['request', 'namespace'],
  ['request', 'name'],
  ['request', 'dryRun'],
  ['request', 'subResource'],
);

/** A SubjectAccessReview for a Secret read, by an agent or a human. */
export const subjectAccessReview = fc
  .record({ agent: fc.boolean(), namespace: fc.constantFrom('prod-billing', 'team-a', 'locked'), name: fc.string({ maxLength: 12 }) })
  .map(({ agent, namespace, name }) => ({
    agent,
    review: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: (agent ? AGENT_USER : HUMAN_USER).username,
        groups: (agent ? AGENT_USER : HUMAN_USER).groups,
        resourceAttributes: { verb: 'get', version: 'v1', resource: 'secrets', namespace, name },
      },
    } as Record<string, unknown>,
  }));

export const sarPath = fc.constantFrom(
  [],
  ['kind'],
  ['apiVersion'],
  ['spec'],
  ['spec', 'user'],
  ['spec', 'groups'],
  ['spec', 'extra'],
  ['spec', 'resourceAttributes'],
  ['spec', 'resourceAttributes', 'verb'],
  ['spec', 'resourceAttributes', 'namespace'],
  ['spec', 'nonResourceAttributes'],
);

/** An agent API tool call for a production delete (policy defers it), with anything in its fields. */
export const toolCallBody = fc
  .record({
    name: fc.oneof(fc.constant('resources_delete'), nastyString),
    args: fc.oneof(fc.constant({ kind: 'Deployment', namespace: 'prod-billing', name: 'web' }), anyJson),
    target: fc.oneof(fc.constant({ verb: 'delete', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'web' }), anyJson),
    context: fc.oneof(fc.constant(undefined), anyJson),
    requestId: fc.oneof(fc.constant(undefined), anyJson),
    agent: fc.oneof(fc.constant(undefined), anyJson),
    onBehalfOf: fc.oneof(fc.constant(undefined), anyJson),
    dryRun: fc.oneof(fc.constant(undefined), anyJson),
  })
  .map((b) => {
    const out: Record<string, unknown> = { tool: { name: b.name, arguments: b.args, target: b.target } };
    for (const k of ['context', 'requestId', 'agent', 'onBehalfOf', 'dryRun'] as const) if (b[k] !== undefined) out[k] = b[k];
    return out;
  });
