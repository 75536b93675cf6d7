import { describe, expect, it } from 'vitest';
import { approvalName, canonicalJson, objectDigest, requestKeys, stripVolatile } from './fingerprint.js';
import { deployment, policyInput } from './testing/requests.js';

describe('request fingerprint', () => {
  it('ignores what the API server and kubectl change between two tries', () => {
    const first = deployment();
    const retry = deployment(3, {
      resourceVersion: '4711',
      uid: '0b7c…',
      generation: 3,
      creationTimestamp: '2025-01-01T00:00:00Z',
      managedFields: [{ manager: 'kubectl' }],
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}' },
    });
    (retry as Record<string, unknown>).status = { replicas: 1 };
    expect(requestKeys(policyInput(retry))).toEqual(requestKeys(policyInput(first)));
  });

  it('does not depend on key order', () => {
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: null } };
    const b = { a: { x: null, y: [1, { p: 2, q: 1 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(objectDigest(a)).toBe(objectDigest(b));
  });

  it('tells different objects, actors, operations and targets apart', () => {
    const base = requestKeys(policyInput(deployment(3)));
    const other = [
      requestKeys(policyInput(deployment(4))),
      requestKeys(policyInput(deployment(3), { actor: { ...policyInput(null).actor, username: 'system:serviceaccount:agents:other' } })),
      requestKeys(policyInput(deployment(3), { action: { operation: 'UPDATE', verb: 'update', subresource: '', dryRun: false } })),
      requestKeys(policyInput(deployment(3), { action: { operation: 'UPDATE', verb: 'update', subresource: 'scale', dryRun: false } })),
      requestKeys(policyInput(deployment(3), { resource: { ...policyInput(null).resource, namespace: 'staging' } })),
    ];
    for (const k of other) expect(k.fingerprint).not.toBe(base.fingerprint);
    // A different object for the same target keeps the target key.
    expect(other[0]!.target).toBe(base.target);
    expect(other[1]!.target).not.toBe(base.target);
  });

  it('keys a DELETE on its target, not on the stored object', () => {
    const del = (generation: number) =>
      requestKeys(policyInput(null, { action: { operation: 'DELETE', verb: 'delete', subresource: '', dryRun: false }, oldObject: deployment(generation) }));
    expect(del(1)).toEqual(del(5));
  });

  it('keeps the content of an object that is not metadata', () => {
    const stripped = stripVolatile({ ...deployment(), status: { x: 1 } });
    expect(stripped).not.toHaveProperty('status');
    expect(stripped).toMatchObject({ spec: { replicas: 3 }, metadata: { name: 'web', labels: { app: 'web' } } });
  });

  it('names approvals belay-<20 hex>, with the attempt after the first', () => {
    const { fingerprint } = requestKeys(policyInput(deployment()));
    expect(fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(approvalName(fingerprint, 1)).toBe(`belay-${fingerprint.slice(0, 20)}`);
    expect(approvalName(fingerprint, 3)).toBe(`belay-${fingerprint.slice(0, 20)}-3`);
  });
});
