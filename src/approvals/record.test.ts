// What an ApprovalRequest keeps of a deferred request: enough to decide,
// within the CRD's bounds, never a Secret's values.

import { describe, expect, it } from 'vitest';
import { canonicalDigest } from '../redact/index.js';
import { deferDecision, deferred, policyInput, toolCallDeferred } from '../testkit/approval-requests.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { requestKeys, toolDigest } from './fingerprint.js';
import { newApprovalRequest } from './record.js';

const NOW = new Date('2025-06-01T12:00:00Z');

function build(req = deferred('uid-1'), options: Partial<Parameters<typeof newApprovalRequest>[2]> = {}) {
  return newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt: 1, now: NOW, ...options });
}

describe('approval record', () => {
  it("expires after the policy's ttl, or the configured one", () => {
    expect(build().spec.requiredBy).toBe('2025-06-01T12:15:00Z');
    expect(build({ ...deferred('u'), decision: deferDecision({ approval: { groups: [], ttl: '1h30m', risk: 'low' } }) }).spec).toMatchObject({
      requiredBy: '2025-06-01T13:30:00Z',
      approverGroups: ['belay:approvers'],
      risk: 'low',
    });
    expect(build(deferred('u'), { ttlMs: 5_000 }).spec.requiredBy).toBe('2025-06-01T12:00:05Z');
    expect(build({ ...deferred('u'), decision: deferDecision({ approval: { groups: [], ttl: 'a quarter hour', risk: 'low' } }) }).spec.requiredBy).toBe(
      '2025-06-01T12:15:00Z',
    );
  });

  it("never stores a Secret's values, nor what policy asks to hide", () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'prod', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}' } },
      data: { password: 'aHVudGVyMg==' },
      stringData: { token: 'abc' },
    };
    const req = {
      ...deferred('u'),
      input: policyInput(secret, { resource: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespace: 'prod', name: 'db' } }),
    };
    const r = build(req);
    expect(JSON.stringify(r)).not.toMatch(/aHVudGVyMg|"abc"/);
    expect(r.spec.object).toMatchObject({ data: { password: '[REDACTED]' }, stringData: { token: '[REDACTED]' } });
    const hidden = build({ ...deferred('u'), decision: deferDecision({ redact: ['/spec/template/spec/containers/0/image'] }) });
    expect((hidden.spec.object as any).spec.template.spec.containers[0].image).toBe('[REDACTED]');
  });

  it('keeps the live object of an UPDATE, redacted the same way, and the digest and run of the policy and workflow', () => {
    const live = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'prod' }, data: { password: 'b2xkLXB3' } };
    const next = { ...live, data: { password: 'bmV3LXB3' } };
    const resource = { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespace: 'prod', name: 'db' };
    const update = policyInput(next, {
      resource,
      action: { operation: 'UPDATE', verb: 'update', subresource: '', dryRun: false },
      oldObject: live,
      context: { workflow: 'rotate', run: 'run-9', prompt: 'rotate the db password', source: 'api' },
    });
    const r = build({ ...deferred('u'), input: update, bundleDigest: 'abc123' });
    expect(r.spec.oldObject).toMatchObject({ kind: 'Secret', data: { password: '[REDACTED]' } });
    expect(JSON.stringify(r)).not.toMatch(/b2xkLXB3|bmV3LXB3/);
    expect(r.spec).toMatchObject({ bundleDigest: 'abc123', context: { workflow: 'rotate', run: 'run-9', prompt: 'rotate the db password' } });
    // Only an UPDATE has a live object beside the one asked for; a DELETE's object is the live one.
    const create = build({ ...deferred('u'), input: policyInput(next, { resource, oldObject: live }) });
    expect(create.spec.oldObject).toBeUndefined();
    expect(build().spec.bundleDigest).toBeUndefined();
  });

  it("stores a tool call's arguments redacted — objects, YAML text, plain strings — with their digest as sent", () => {
    const PASS = 'Harbor4821!kube';
    const GH = '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';
    const args = {
      resource: `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${PASS}\n`,
      object: { kind: 'Secret', metadata: { name: 'db' }, stringData: { token: GH } },
      password: PASS,
    };
    const req = toolCallDeferred('u', args);
    const keys = requestKeys(req.input);
    const r = build(req);
    expect(JSON.stringify(r)).not.toContain(PASS);
    expect(JSON.stringify(r)).not.toContain(GH);
    expect(r.spec.tool).toMatchObject({
      name: 'resources_create_or_update',
      argumentsDigest: canonicalDigest(args),
      arguments: { password: '[REDACTED]', object: { stringData: { token: '[REDACTED]' } } },
    });
    expect((r.spec.tool as { arguments: { resource: string } }).arguments.resource).toContain('password: [REDACTED]');
    // The approval is still named after the call as sent, so an identical retry finds it.
    expect(r.spec.objectDigest).toBe(toolDigest(req.input.tool!));
    expect(keys.objectDigest).toBe(r.spec.objectDigest);
  });

  it('scans the object and the agent’s rationale for secrets as well', () => {
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'app', namespace: 'prod' },
      data: { 'app.env': 'MODE=fast\nDB_PASSWORD=Harbor4821!kube\n' },
    };
    const input = policyInput(cm, { context: { rationale: 'rotating the key 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 that leaked', source: 'api' } });
    const r = build({ ...deferred('u'), input });
    expect(JSON.stringify(r)).not.toMatch(/Harbor4821|ghp_wWPw/);
    expect(r.spec.object).toMatchObject({ data: { 'app.env': 'MODE=fast\nDB_PASSWORD=[REDACTED]\n' } });
    expect(r.spec.context.rationale).toBe('rotating the key [REDACTED] that leaked');
  });

  it('keeps an excerpt of an object too large to store', () => {
    const big = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'prod' }, data: { blob: 'x'.repeat(300_000) } };
    const r = build({ ...deferred('u'), input: policyInput(big) });
    expect(r.spec.object).toBeNull();
    expect(r.spec.objectExcerpt!.length).toBeLessThan(9_000);
    expect(r.spec.objectDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("keeps an excerpt of a tool call's arguments too large to store", () => {
    const huge = { resource: 'x'.repeat(2 * 1024 * 1024) };
    const r = build(toolCallDeferred('t-1', huge));
    const tool = r.spec.tool as { name: string; arguments: unknown; argumentsExcerpt: string; target: unknown };
    expect(tool).toMatchObject({ name: 'resources_create_or_update', arguments: null, target: { kind: 'ClusterRoleBinding' } });
    expect(tool.argumentsExcerpt.length).toBeLessThan(9 * 1024);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(64 * 1024);
    // The request is still the one that was asked: same digest, so an approval of it is found.
    expect(r.spec.objectDigest).toBe(requestKeys(toolCallDeferred('t-1', huge).input).objectDigest);
    // A small one is kept whole.
    expect((build(toolCallDeferred('t-2', { resource: 'kind: RoleBinding' })).spec.tool as { arguments: unknown }).arguments).toEqual({
      resource: 'kind: RoleBinding',
    });
  });

  it("stays inside the CRD's bounds for what agents control", () => {
    const input = policyInput(null, { context: { workflow: 'w'.repeat(400), confidence: 7, rationale: 'r'.repeat(9_000), source: 'annotation' } });
    const r = build({
      ...deferred('u'),
      input,
      decision: deferDecision({ reasons: Array.from({ length: 80 }, (_, i) => ({ rule: `r${i}`, message: 'm'.repeat(5_000), severity: 'low' as const })) }),
    });
    expect(r.spec.context.workflow!.length).toBe(253);
    expect(r.spec.context).not.toHaveProperty('confidence');
    expect(r.spec.context.rationale!.length).toBe(4096);
    expect(r.spec.reasons).toHaveLength(64);
    expect(r.spec.reasons[0]!.message.length).toBe(4096);
  });

  it('names the human an agent acts for', () => {
    const input = policyInput(null, { actor: { ...policyInput(null).actor, extra: { 'belay.dev/on-behalf-of': ['erin'] } } });
    expect(build({ ...deferred('u'), input }).spec.requester.onBehalfOf).toBe('erin');
  });
});

describe('durations', () => {
  it('reads Go durations and refuses anything else', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1_500);
    expect(parseDuration('250ms')).toBe(250);
    for (const bad of ['', '15', 'm', '-5m', '0s', '5 m', '5d']) expect(() => parseDuration(bad)).toThrow(/duration/);
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(61_000)).toBe('1m1s');
    expect(formatDuration(400)).toBe('0s');
  });
});
