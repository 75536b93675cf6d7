// Separation of duties as the approvals webhook applies it to AdmissionReviews
// of approvalrequests and approvalrequests/status.

import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../contract/index.js';
import type { AgentSelector, UserInfo } from '../identity/agents.js';
import type { AdmissionRequest } from '../input/admission.js';
import { AGENT, deferred } from '../testkit/approval-requests.js';
import { reviewApprovalChange } from './changes.js';
import { requestKeys } from './fingerprint.js';
import { newApprovalRequest } from './record.js';
import { type ApprovalRequest, type ApprovalStatus, rfc3339 } from './resource.js';
import type { ReviewContext } from './separation.js';

const AGENTS: AgentSelector = { serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: ['belay:agents'], usernames: [] };
const GATEWAY = 'system:serviceaccount:belay:belay';
const NOW = new Date('2025-06-01T12:00:00Z');
const ctx: ReviewContext = { gatewayUser: GATEWAY, agents: AGENTS, now: NOW };

const alice: UserInfo = { username: 'alice', groups: ['belay:approvers', 'system:authenticated'] };
const bob: UserInfo = { username: 'bob', groups: ['developers', 'system:authenticated'] };
const agent: UserInfo = { username: AGENT, groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'] };
const gateway: UserInfo = { username: GATEWAY, groups: ['system:serviceaccounts'] };

function pending(over: Partial<ApprovalRequest['spec']> = {}): ApprovalRequest {
  const req = deferred('uid-1');
  const r = newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt: 1, now: new Date(NOW.getTime() - 60_000) });
  return { ...r, metadata: { ...r.metadata, resourceVersion: '7' }, spec: { ...r.spec, ...over }, status: { phase: 'Pending' } };
}

function withStatus(r: ApprovalRequest, status: Partial<ApprovalStatus>): ApprovalRequest {
  return { ...r, status: { ...(r.status ?? { phase: 'Pending' }), ...status } as ApprovalStatus };
}

function review(
  user: UserInfo,
  old: ApprovalRequest | null,
  next: ApprovalRequest | null,
  op: AdmissionRequest['operation'] = 'UPDATE',
  sub = 'status',
): AdmissionRequest {
  return {
    uid: 'review-1',
    kind: { group: 'belay.dev', version: 'v1alpha1', kind: 'ApprovalRequest' },
    resource: { group: 'belay.dev', version: 'v1alpha1', resource: 'approvalrequests' },
    ...(sub ? { subResource: sub } : {}),
    namespace: 'prod',
    name: (next ?? old)?.metadata.name ?? '',
    operation: op,
    userInfo: user,
    object: next as unknown as JsonObject | null,
    oldObject: old as unknown as JsonObject | null,
  };
}

/** What the API server does: mutate, then validate the mutated object. */
function decide(user: UserInfo, old: ApprovalRequest, next: ApprovalRequest) {
  const m = reviewApprovalChange(review(user, old, next), 'mutate', ctx);
  if (!m.allowed) return m;
  const stamped = m.patch ? { ...next, status: m.patch[0]!.value as ApprovalStatus } : next;
  return reviewApprovalChange(review(user, old, stamped), 'validate', ctx);
}

describe('approvals webhook: who may decide', () => {
  const old = pending();
  const approve = withStatus(old, { phase: 'Approved', message: 'fine' });

  it('lets an approver approve, stamping who and when from the authenticated user', () => {
    const m = reviewApprovalChange(review(alice, old, withStatus(approve, { decidedBy: 'mallory', decidedAt: '1999-01-01T00:00:00Z' })), 'mutate', ctx);
    expect(m.allowed).toBe(true);
    const status = (m as { patch: { value: ApprovalStatus }[] }).patch[0]!.value;
    expect(status).toMatchObject({
      phase: 'Approved',
      decidedBy: 'alice',
      decidedAt: rfc3339(NOW),
      message: 'fine',
      conditions: [{ type: 'Decided', reason: 'Approved' }],
    });
    expect(decide(alice, old, approve)).toMatchObject({ allowed: true, decision: 'approved' });
    expect(decide(alice, old, withStatus(old, { phase: 'Rejected', message: 'no' }))).toMatchObject({ allowed: true, decision: 'rejected' });
  });

  it('refuses a decidedBy that is not the caller when nothing stamped it', () => {
    const forged = withStatus(approve, { decidedBy: 'carol', decidedAt: rfc3339(NOW) });
    expect(reviewApprovalChange(review(alice, old, forged), 'validate', ctx)).toMatchObject({
      allowed: false,
      code: 403,
      message: expect.stringMatching(/decidedBy must be the authenticated user "alice", not "carol"/),
    });
    const noTime = withStatus(approve, { decidedBy: 'alice' });
    expect(reviewApprovalChange(review(alice, old, noTime), 'validate', ctx)).toMatchObject({ allowed: false, message: expect.stringMatching(/decidedAt/) });
  });

  it('refuses agents, the requester, the human an agent acts for, and non-approvers', () => {
    expect(decide(agent, old, approve)).toMatchObject({ allowed: false, message: expect.stringMatching(/agent identity/) });
    expect(decide({ username: 'dave', groups: ['belay:agents', 'belay:approvers'] }, old, approve)).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/agent identity/),
    });
    const byDave = pending({ requester: { user: 'dave', groups: ['belay:agents'] } });
    expect(decide({ username: 'dave', groups: ['belay:approvers'] }, byDave, withStatus(byDave, { phase: 'Approved' }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/dave made this request and may not decide it/),
    });
    const forErin = pending({ requester: { user: AGENT, groups: [], onBehalfOf: 'erin' } });
    expect(decide({ username: 'erin', groups: ['belay:approvers'] }, forErin, withStatus(forErin, { phase: 'Approved' }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/on behalf of erin, who may not decide it/),
    });
    expect(decide(bob, old, approve)).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/only members of belay:approvers may decide this request; bob is not/),
    });
  });

  it('reads the approver groups from the stored object, not from the edit', () => {
    const widened = { ...approve, spec: { ...approve.spec, approverGroups: ['developers'] } };
    expect(decide(bob, old, widened)).toMatchObject({ allowed: false, message: expect.stringMatching(/only members of belay:approvers/) });
    const narrow = pending({ approverGroups: ['sre:leads'] });
    expect(decide(alice, narrow, withStatus(narrow, { phase: 'Approved' }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/only members of sre:leads/),
    });
  });

  it('keeps a decision final and refuses deciding a lapsed request', () => {
    const approved = withStatus(old, { phase: 'Approved', decidedBy: 'alice', decidedAt: rfc3339(NOW) });
    expect(decide({ username: 'carol', groups: ['belay:approvers'] }, approved, withStatus(approved, { phase: 'Rejected' }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/already Approved \(decided by alice.*a decision is final/),
    });
    const lapsed = pending({ requiredBy: rfc3339(new Date(NOW.getTime() - 1_000)) });
    expect(decide(alice, lapsed, withStatus(lapsed, { phase: 'Approved' }))).toMatchObject({ allowed: false, message: expect.stringMatching(/expired at/) });
    expect(decide(alice, old, withStatus(old, { phase: 'Consumed' }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/set status.phase to Approved or Rejected/),
    });
  });

  it('checks an edit: it must apply, stay well-formed, keep kind/name/namespace, and come with an approval', () => {
    const edit = (patch: unknown, phase: 'Approved' | 'Rejected' = 'Approved') => decide(alice, old, withStatus(old, { phase, override: { patch } as never }));
    expect(edit([{ op: 'replace', path: '/spec/replicas', value: 2 }])).toMatchObject({ allowed: true });
    expect(edit([{ op: 'replace', path: '/spec/nope/deeper', value: 2 }])).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/does not apply to the requested object/),
    });
    expect(edit([{ op: 'replace', path: '/spec/replicas', value: 'two' }])).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/not a valid Deployment/),
    });
    expect(edit([{ op: 'replace', path: '/metadata/name', value: 'other' }])).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/cannot change the object's kind, name or namespace/),
    });
    expect(edit([{ op: 'replace', path: '/spec/replicas', value: 2 }], 'Rejected')).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/comes with an approval/),
    });
    expect(decide(alice, old, withStatus(old, { phase: 'Approved', override: { arguments: { a: 1 } } }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/not a tool call/),
    });
    expect(decide(alice, old, withStatus(old, { phase: 'Approved', consumption: { requestUid: 'x', objectDigest: 'y', at: 'z' } }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/only the belay gateway records/),
    });
  });
});

describe("approvals webhook: the gateway's own writes", () => {
  const approved = withStatus(pending(), { phase: 'Approved', decidedBy: 'alice', decidedAt: rfc3339(NOW) });
  const v = (user: UserInfo, old: ApprovalRequest, next: ApprovalRequest) => reviewApprovalChange(review(user, old, next), 'validate', ctx);

  it('may mark an approval Consumed and a lapsed request Expired', () => {
    expect(
      v(gateway, approved, withStatus(approved, { phase: 'Consumed', consumption: { requestUid: 'u', objectDigest: 'sha256:x', at: rfc3339(NOW) } })),
    ).toMatchObject({ allowed: true });
    const lapsed = pending({ requiredBy: rfc3339(NOW) });
    expect(v(gateway, lapsed, withStatus(lapsed, { phase: 'Expired' }))).toMatchObject({ allowed: true });
  });

  it('may not approve, reject, expire early, change a decision, or give a consumption to another request', () => {
    const old = pending();
    expect(v(gateway, old, withStatus(old, { phase: 'Approved', decidedBy: GATEWAY, decidedAt: rfc3339(NOW) }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/may not change a decision/),
    });
    expect(v(gateway, old, withStatus(old, { phase: 'Approved' }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/may only mark a request Consumed/),
    });
    expect(v(gateway, old, withStatus(old, { phase: 'Expired' }))).toMatchObject({ allowed: false, message: expect.stringMatching(/expires at .*not before/) });
    expect(v(gateway, approved, withStatus(approved, { phase: 'Consumed', message: 'changed' }))).toMatchObject({ allowed: false });
    const consumed = withStatus(approved, { phase: 'Consumed', consumption: { requestUid: 'u1', objectDigest: 'a', at: rfc3339(NOW) } });
    expect(v(gateway, consumed, withStatus(consumed, { consumption: { requestUid: 'u1', objectDigest: 'b', at: rfc3339(NOW) } }))).toMatchObject({
      allowed: true,
    });
    expect(v(gateway, consumed, withStatus(consumed, { consumption: { requestUid: 'u2', objectDigest: 'a', at: rfc3339(NOW) } }))).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/stays with the request that used it/),
    });
  });

  it('records which notifications went out, in any phase; an approver may not forge or hide that record', () => {
    const sent = [{ event: 'requested' as const, channel: 'approvers', state: 'Sent' as const, id: 'uid/requested', at: rfc3339(NOW), attempts: 1 }];
    const old = pending();
    expect(v(gateway, old, withStatus(old, { notifications: sent }))).toMatchObject({ allowed: true });
    expect(v(gateway, approved, withStatus(approved, { notifications: sent }))).toMatchObject({ allowed: true });
    const withLedger = withStatus(old, { notifications: sent });
    expect(decide(alice, withLedger, withStatus(withLedger, { phase: 'Approved' }))).toMatchObject({ allowed: true, decision: 'approved' });
    expect(decide(alice, withLedger, withStatus(withLedger, { phase: 'Approved', notifications: [] }))).toMatchObject({
      allowed: false,
      message: 'only the belay gateway records which notifications were sent (status.notifications)',
    });
    expect(decide(alice, old, withStatus(old, { phase: 'Approved', notifications: sent }))).toMatchObject({ allowed: false });
  });

  it('is not stamped as a decider by the mutating stage', () => {
    expect(reviewApprovalChange(review(gateway, approved, withStatus(approved, { phase: 'Consumed' })), 'mutate', ctx)).toEqual({ allowed: true });
  });
});

describe('approvals webhook: the ApprovalRequest itself', () => {
  const r = pending();
  it('lets only the gateway create one', () => {
    expect(reviewApprovalChange(review(gateway, null, r, 'CREATE', ''), 'validate', ctx)).toMatchObject({ allowed: true });
    expect(reviewApprovalChange(review(agent, null, r, 'CREATE', ''), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/created by the belay gateway/),
    });
    expect(reviewApprovalChange(review(gateway, null, r, 'CREATE', ''), 'validate', { ...ctx, gatewayUser: undefined })).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/does not know its own identity/),
    });
  });

  it('keeps agents from deleting or relabelling approvals, and everyone else from the lookup labels', () => {
    expect(reviewApprovalChange(review(agent, r, null, 'DELETE', ''), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/agents may not delete/),
    });
    expect(reviewApprovalChange(review(alice, r, null, 'DELETE', ''), 'validate', ctx)).toMatchObject({ allowed: true });
    const relabelled = { ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, 'belay.dev/fingerprint': 'x' } } };
    expect(reviewApprovalChange(review(alice, r, relabelled, 'UPDATE', ''), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/labels .* are set by the gateway/),
    });
    const annotated = { ...r, metadata: { ...r.metadata, annotations: { note: 'seen' } } };
    expect(reviewApprovalChange(review(alice, r, annotated, 'UPDATE', ''), 'validate', ctx)).toMatchObject({ allowed: true });
  });

  it('answers clearly for malformed or misrouted reviews, and fails closed without a bundle', () => {
    expect(
      reviewApprovalChange({ ...review(alice, r, r), resource: { group: 'apps', version: 'v1', resource: 'deployments' } }, 'validate', ctx),
    ).toMatchObject({ allowed: false, code: 400 });
    expect(reviewApprovalChange(review(alice, null, r), 'validate', ctx)).toMatchObject({
      allowed: false,
      code: 400,
      message: expect.stringMatching(/needs object and oldObject/),
    });
    expect(reviewApprovalChange(review(alice, r, withStatus(r, { phase: 'Approved' })), 'validate', undefined)).toMatchObject({ allowed: false, code: 503 });
  });
});
