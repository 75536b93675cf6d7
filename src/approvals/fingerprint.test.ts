import { describe, expect, it } from 'vitest';
import type { JsonObject, PolicyInput } from '../contract/index.js';
import { deployment, policyInput, toolCallDeferred } from '../testkit/approval-requests.js';
import { canonicalJson } from '../util/canonical.js';
import { approvalName, objectDigest, requestKeys, stripVolatile, toolDigest } from './fingerprint.js';

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

  it('keys a prompt on its content: another prompt is another request, the same prompt the same one', () => {
    const prompt = (content: JsonObject): PolicyInput =>
      policyInput(null, {
        face: 'prompt',
        action: { operation: 'SEND', verb: 'send', subresource: '', dryRun: false },
        resource: { group: '', version: '', kind: 'Prompt', resource: '', namespace: '', name: '' },
        content,
      });
    const a = requestKeys(prompt({ text: 'token [REDACTED] in the log', length: 80, findings: [{ kind: 'cluster-token', start: 6, end: 56, line: 1 }] }));
    const b = requestKeys(
      prompt({ text: 'why does web-1 crash? token [REDACTED]', length: 90, findings: [{ kind: 'cluster-token', start: 28, end: 78, line: 1 }] }),
    );
    expect(b.fingerprint).not.toBe(a.fingerprint);
    expect(b.objectDigest).not.toBe(a.objectDigest);
    expect(b.target).toBe(a.target);
    // Key order does not matter; the same content is the same request.
    expect(requestKeys(prompt({ findings: [{ line: 1, end: 56, start: 6, kind: 'cluster-token' }], length: 80, text: 'token [REDACTED] in the log' }))).toEqual(
      a,
    );
  });

  it('keys a tool result on the call and on the result', () => {
    const result = (value: unknown): PolicyInput => ({
      ...toolCallDeferred('r', { kind: 'Secret', name: 'db' }).input,
      face: 'toolresult',
      content: { value: value as never, format: 'json' },
    });
    const one = requestKeys(result({ kind: 'Secret', data: { password: 'aHVudGVyMg==' } }));
    const two = requestKeys(result({ kind: 'Secret', data: { password: 'c2VjcmV0' } }));
    expect(two.fingerprint).not.toBe(one.fingerprint);
    expect(requestKeys(result({ data: { password: 'aHVudGVyMg==' }, kind: 'Secret' }))).toEqual(one);
  });

  it('keys a tool call on the tool, its arguments and its target (the cluster included)', () => {
    const base = toolCallDeferred('c', { resource: 'kind: ClusterRoleBinding', dryRun: false }).input;
    const keys = requestKeys(base);
    const tool = base.tool as { name: string; arguments: JsonObject; target: JsonObject };
    expect(keys.objectDigest).toBe(toolDigest(tool));
    const changed = (t: Partial<typeof tool>) => requestKeys({ ...base, tool: { ...tool, ...t } });
    expect(changed({ arguments: { resource: 'kind: RoleBinding', dryRun: false } }).fingerprint).not.toBe(keys.fingerprint);
    expect(changed({ target: { ...tool.target, cluster: 'dev-eu1' } }).fingerprint).not.toBe(keys.fingerprint);
    expect(changed({ arguments: { dryRun: false, resource: 'kind: ClusterRoleBinding' } })).toEqual(keys);
  });
});
