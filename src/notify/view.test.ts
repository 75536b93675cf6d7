// What a notification says, and what it never says: built from the stored
// record, it carries the reasons, context, fix, an UPDATE's change against
// the live object, the policy revision and digest, and the target's history;
// a secret in a record written before belay redacted records, in a reason
// or in a decision message does not leave.

import { describe, expect, it } from 'vitest';
import { requestKeys } from '../approvals/fingerprint.js';
import { newApprovalRequest } from '../approvals/record.js';
import type { ApprovalRequest } from '../approvals/resource.js';
import type { JsonObject } from '../contract/index.js';
import { deferDecision, deferred, deployment, policyInput } from '../testkit/approval-requests.js';
import { eventId } from './events.js';
import { notificationOf } from './view.js';

const NOW = new Date('2026-12-06T10:00:00Z');
// Shaped like real ones (the scanner ignores obvious placeholders such as AWS's EXAMPLE key).
const AWS = 'k3Jd9sL2mQ8vR4tY7wZ1xC5bN6hG0fA2pE9uI3oW';
const GH = 'ghp_A7xK2mQ9vLp4Rt8WzN3bYc6Hd1Fj5Gs0Ue2I';

function record(req = deferred('u1'), uid = 'uid-1'): ApprovalRequest {
  const r = newApprovalRequest(req, requestKeys(req.input), { namespace: 'prod', attempt: 1, now: NOW });
  return { ...r, metadata: { ...r.metadata, uid, resourceVersion: '1', creationTimestamp: '2026-12-06T10:00:00Z' }, status: { phase: 'Pending' } };
}

const note = (r: ApprovalRequest, related: ApprovalRequest[] = []) =>
  notificationOf(r, 'requested', eventId(r, 'requested'), NOW.getTime(), { consoleUrl: 'https://belay.example/console/', related, now: NOW });

describe('notification view', () => {
  it('says what, who, why, where to decide, and which policy asked', () => {
    const r = record(deferred('u1', deployment(3), { bundleDigest: 'sha256:abc123', revision: 'rev-9' }));
    const n = note(r);
    expect(n).toMatchObject({
      event: 'requested',
      id: 'uid-1/requested',
      time: '2026-12-06T10:00:00.000Z',
      title: 'Approval needed: CREATE Deployment prod/web',
    });
    expect(n.data).toMatchObject({
      approval: { id: `prod/${r.metadata.name}`, uid: 'uid-1', phase: 'Pending', url: `https://belay.example/console/#prod/${r.metadata.name}` },
      requester: { user: 'system:serviceaccount:agents:remediator' },
      reasons: [{ rule: 'prod.scale', message: 'scaling in production needs a human' }],
      risk: 'high',
      policy: { revision: 'rev-9', digest: 'sha256:abc123' },
      context: { workflow: 'scale-up-v1', confidence: 0.7 },
      change: null,
    });
  });

  it("shows an UPDATE's change against the live object, both redacted", () => {
    const live = deployment(2, { annotations: { note: `token=${GH}` } });
    const next = deployment(5, { annotations: { note: `token=${GH}` } });
    const req = deferred('u2', next, {
      input: policyInput(next, { action: { operation: 'UPDATE', verb: 'update', subresource: '', dryRun: false }, oldObject: live }),
    });
    const r = record(req);
    expect(r.spec.oldObject).toBeTruthy();
    const n = note(r);
    const diff = n.data.change?.diff ?? [];
    expect(diff.filter((l) => l.kind === 'remove').map((l) => l.text)).toEqual(['  replicas: 2']);
    expect(diff.filter((l) => l.kind === 'add').map((l) => l.text)).toEqual(['  replicas: 5']);
    expect(JSON.stringify(n)).not.toContain(GH);
  });

  it('never carries a secret: not from an old unredacted record, a reason, a decision message or the prompt', () => {
    const r = record();
    const leaky: ApprovalRequest = {
      ...r,
      spec: {
        ...r.spec,
        object: { ...(r.spec.object as JsonObject), data: { AWS_SECRET_ACCESS_KEY: AWS } },
        reasons: [{ rule: 'x.y', message: `the manifest carries ${GH}`, severity: 'high' }],
        context: { ...r.spec.context, rationale: `use ${GH} to log in`, prompt: `deploy with aws_secret_access_key=${AWS}` },
      },
      status: { phase: 'Rejected', decidedBy: 'alice', decidedAt: '2026-12-06T10:01:00Z', message: `do not paste ${GH}` },
    };
    for (const event of ['requested', 'rejected'] as const) {
      const n = notificationOf(leaky, event, eventId(leaky, event), NOW.getTime(), { consoleUrl: null, now: NOW });
      const text = JSON.stringify(n);
      expect(text).not.toContain(GH);
      expect(text).not.toContain(AWS);
      expect(text).toContain('[REDACTED]');
    }
  });

  it('lists earlier requests for the same object with their decisions and outcomes', () => {
    const r = record(deferred('u3', deployment(4)), 'uid-3');
    const earlier = record(deferred('u4', deployment(9)), 'uid-4');
    earlier.metadata = { ...earlier.metadata, name: 'belay-0000000000000000aaaa', creationTimestamp: '2026-12-05T10:00:00Z' };
    earlier.status = {
      phase: 'Consumed',
      decidedBy: 'carol',
      decidedAt: '2026-12-05T10:02:00Z',
      ...({ outcome: { result: 'Failed', message: 'rollout stalled' } } as object),
    };
    const other = record(deferred('u5', deployment(1, { name: 'api' })), 'uid-5');
    const n = note(r, [earlier, other, r]);
    expect(n.data.history).toEqual([
      expect.objectContaining({
        id: 'prod/belay-0000000000000000aaaa',
        phase: 'Consumed',
        decidedBy: 'carol',
        outcome: { result: 'Failed', message: 'rollout stalled' },
      }),
    ]);
  });

  it('says only which request it is when the record cannot be read', () => {
    const broken = { ...record(), spec: { requiredBy: 'x' } } as unknown as ApprovalRequest;
    const n = note(broken);
    expect(n.data.summary).toBe(`ApprovalRequest prod/${broken.metadata.name}`);
    expect(n.data.reasons).toEqual([]);
  });

  it('keeps the deferred decision revision and leaves a large object out', () => {
    const big = deployment(1, { annotations: { blob: 'x'.repeat(70 * 1024) } });
    const r = record(deferred('u6', big, { decision: deferDecision() }));
    expect(note(r).data.object).toBeNull();
    expect(note(record()).data.object).toMatchObject({ kind: 'Deployment' });
  });
});
