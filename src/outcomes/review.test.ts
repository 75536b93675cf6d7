// Who may write outcomes, as belay's approvals webhook reviews it: only the
// gateway records an outcome (on an ApprovalRequest, or an Outcome record), a
// final one never changes, and agents never touch Outcome records.

import { describe, expect, it } from 'vitest';
import { reviewApprovalChange } from '../approvals/changes.js';
import { requestKeys } from '../approvals/fingerprint.js';
import { newApprovalRequest } from '../approvals/record.js';
import type { ApprovalOutcome, ApprovalRequest, ApprovalStatus } from '../approvals/resource.js';
import type { ReviewContext } from '../approvals/separation.js';
import type { JsonObject } from '../contract/index.js';
import type { AgentSelector, UserInfo } from '../identity/agents.js';
import type { AdmissionRequest } from '../input/admission.js';
import { AGENT, deferred } from '../testkit/approval-requests.js';
import type { OutcomeRecord } from './resource.js';
import { checkApprovalOutcome } from './review.js';

const AGENTS: AgentSelector = { serviceAccountNamespaces: ['agents'], serviceAccounts: [], groups: ['belay:agents'], usernames: [] };
const GATEWAY = 'system:serviceaccount:belay:belay';
const NOW = new Date('2025-06-01T12:00:00Z');
const ctx: ReviewContext = { gatewayUser: GATEWAY, agents: AGENTS, now: NOW };
const gateway: UserInfo = { username: GATEWAY, groups: ['system:serviceaccounts'] };
const alice: UserInfo = { username: 'alice', groups: ['belay:approvers'] };
const agent: UserInfo = { username: AGENT, groups: ['system:serviceaccounts:agents'] };

const watching: ApprovalOutcome = { result: 'Watching', record: 'prod/outcome-1', startedAt: '2025-06-01T11:59:00Z' };
const failed: ApprovalOutcome = { result: 'Failed', reason: 'CrashLoopBackOff', record: 'prod/outcome-1', evidence: ['pod p: Running'] };

function consumed(outcome?: ApprovalOutcome): ApprovalRequest {
  const req = deferred('uid-1');
  const r = newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt: 1, now: new Date(NOW.getTime() - 60_000) });
  const status: ApprovalStatus = {
    phase: 'Consumed',
    decidedBy: 'alice',
    decidedAt: '2025-06-01T11:58:00Z',
    consumption: { requestUid: 'r1', objectDigest: 'sha256:x', at: '2025-06-01T11:58:30Z', confirmedAt: '2025-06-01T11:58:30Z' },
    ...(outcome ? { outcome } : {}),
  };
  return { ...r, metadata: { ...r.metadata, resourceVersion: '7' }, status };
}

function review(
  user: UserInfo,
  old: unknown,
  next: unknown,
  resource = 'approvalrequests',
  sub = 'status',
  op: AdmissionRequest['operation'] = 'UPDATE',
): AdmissionRequest {
  return {
    uid: 'review-1',
    kind: { group: 'belay.dev', version: 'v1alpha1', kind: resource === 'outcomes' ? 'Outcome' : 'ApprovalRequest' },
    resource: { group: 'belay.dev', version: 'v1alpha1', resource },
    ...(sub ? { subResource: sub } : {}),
    namespace: 'prod',
    name: 'x',
    operation: op,
    userInfo: user,
    object: next as JsonObject | null,
    oldObject: old as JsonObject | null,
  };
}

describe('status.outcome of an ApprovalRequest', () => {
  it('the gateway records it on a used approval, Watching then final', () => {
    expect(reviewApprovalChange(review(gateway, consumed(), consumed(watching)), 'validate', ctx)).toEqual({ allowed: true });
    expect(reviewApprovalChange(review(gateway, consumed(watching), consumed(failed)), 'validate', ctx)).toEqual({ allowed: true });
  });

  it('a final outcome never changes, and is never removed', () => {
    const changed = reviewApprovalChange(review(gateway, consumed(failed), consumed({ ...failed, result: 'Succeeded' })), 'validate', ctx);
    expect(changed).toMatchObject({ allowed: false, code: 403, message: 'the outcome of this change is final (Failed); it cannot change' });
    expect(reviewApprovalChange(review(gateway, consumed(failed), consumed()), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: 'a recorded outcome is never removed',
    });
  });

  it('nobody else writes it: not an approver, not an agent', () => {
    for (const who of [alice, agent]) {
      const r = reviewApprovalChange(review(who, consumed(), consumed(failed)), 'validate', ctx);
      expect(r).toMatchObject({ allowed: false, code: 403 });
    }
    // Even with a decision, a human cannot slip an outcome in.
    const pending = { ...consumed(), status: { phase: 'Pending' as const } };
    const approving = { ...pending, status: { phase: 'Approved' as const, decidedBy: 'alice', decidedAt: '2025-06-01T12:00:00Z', outcome: failed } };
    expect(reviewApprovalChange(review(alice, pending, approving), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: 'only the belay gateway records what became of an approved change (status.outcome)',
    });
  });

  it('belongs to a used approval only', () => {
    expect(checkApprovalOutcome({ phase: 'Approved' }, { phase: 'Approved', outcome: watching }, true)).toMatchObject({ ok: false });
  });
});

describe('Outcome records', () => {
  const record = (result?: string) =>
    ({
      apiVersion: 'belay.dev/v1alpha1',
      kind: 'Outcome',
      metadata: { name: 'outcome-1', namespace: 'prod' },
      spec: {},
      ...(result ? { status: { result } } : {}),
    }) as unknown as OutcomeRecord;

  it('only the gateway creates and updates them', () => {
    expect(reviewApprovalChange(review(gateway, null, record(), 'outcomes', '', 'CREATE'), 'validate', ctx)).toEqual({ allowed: true });
    expect(reviewApprovalChange(review(alice, null, record(), 'outcomes', '', 'CREATE'), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: `Outcome records are written by the belay gateway (${GATEWAY}) when it watches a change, not by alice`,
    });
    expect(reviewApprovalChange(review(gateway, record('Watching'), record('Failed'), 'outcomes'), 'validate', ctx)).toEqual({ allowed: true });
    expect(reviewApprovalChange(review(gateway, record('Failed'), record('Succeeded'), 'outcomes'), 'validate', ctx)).toMatchObject({
      allowed: false,
      message: 'this outcome is final (Failed); it cannot change',
    });
  });

  it('agents never touch them, not even to delete; people may clean up', () => {
    for (const [op, old, next] of [
      ['CREATE', null, record()],
      ['DELETE', record('Failed'), null],
    ] as const) {
      expect(reviewApprovalChange(review(agent, old, next, 'outcomes', '', op), 'validate', ctx)).toMatchObject({ allowed: false, code: 403 });
    }
    expect(reviewApprovalChange(review(alice, record('Failed'), null, 'outcomes', '', 'DELETE'), 'validate', ctx)).toEqual({ allowed: true });
  });
});
