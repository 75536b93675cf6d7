// The authorization face over HTTP: SubjectAccessReview in, allow/deny/no
// opinion out, with approvals and their read window.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT, call, type Harness, startHarness } from '../../src/testkit/agent-api.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const AGENT_GROUPS = ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'];

function sar(
  over: {
    user?: string;
    groups?: string[];
    verb?: string;
    resource?: string;
    namespace?: string;
    name?: string;
    group?: string;
    nonResource?: boolean;
    extra?: Record<string, string[]>;
  } = {},
) {
  const spec: Record<string, unknown> = { user: over.user ?? AGENT, groups: over.groups ?? AGENT_GROUPS, uid: 'u-1' };
  if (over.extra) spec.extra = over.extra;
  if (over.nonResource) spec.nonResourceAttributes = { path: '/healthz', verb: 'get' };
  else
    spec.resourceAttributes = {
      namespace: over.namespace ?? 'team-a',
      verb: over.verb ?? 'get',
      group: over.group ?? '',
      version: 'v1',
      resource: over.resource ?? 'secrets',
      name: over.name ?? 'db-credentials',
    };
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec };
}

const authorize = (body: unknown) => call(h, 'POST', '/authorize', { body });

describe('POST /authorize', () => {
  it('answers a human with no opinion, without evaluating, so RBAC decides', async () => {
    const before = h.decisions.length;
    const r = await authorize(sar({ user: 'bob', groups: ['developers', 'system:authenticated'], namespace: 'locked' }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', status: { allowed: false } });
    expect(h.decisions.length).toBe(before);
  });

  it("denies an agent's Secret read that policy denies, with a reason that reads after kubectl's prefix", async () => {
    const r = await authorize(sar({ namespace: 'locked' }));
    expect(r.body.status).toEqual({
      allowed: false,
      denied: true,
      reason: 'belay: agents may not read Secrets in namespace "locked" [rule test.secrets.locked]',
    });
    expect(h.decisions.at(-1)).toMatchObject({ face: 'authorization', verdict: 'deny', rules: ['test.secrets.locked'], actor: { username: AGENT } });
  });

  it('gives no opinion (not allowed: true) when policy allows: belay never grants what RBAC would not', async () => {
    const r = await authorize(sar({ namespace: 'team-a' }));
    expect(r.body.status).toEqual({ allowed: false });
    const cm = await authorize(sar({ resource: 'configmaps', namespace: 'locked' }));
    expect(cm.body.status).toEqual({ allowed: false });
  });

  it('treats group members as agents, and non-resource requests as none of its business', async () => {
    const byGroup = await authorize(sar({ user: 'ci-bot', groups: ['belay:agents'], namespace: 'locked' }));
    expect(byGroup.body.status.denied).toBe(true);
    const nonResource = await authorize(sar({ nonResource: true }));
    expect(nonResource.body.status).toEqual({ allowed: false });
  });

  it('defers a production Secret read to an approval; once approved the read is allowed for the window, then asks again', async () => {
    const name = `db-${Date.now()}`;
    const first = await authorize(sar({ namespace: 'prod-billing', name }));
    expect(first.body.status.denied).toBe(true);
    expect(first.body.status.reason).toMatch(
      /^belay: approval required: reading Secret ".*" in a production namespace needs a human \[rule test\.secrets\.production\]\. ask an approver: belay approvals approve belay\/belay-/,
    );
    const id = h.approvals.records.at(-1)!.metadata;
    const ref = `${id.namespace}/${id.name}`;

    // Asking again while pending finds the same approval, not a new one.
    const again = await authorize(sar({ namespace: 'prod-billing', name }));
    expect(again.body.status.reason).toContain(ref);
    expect(h.approvals.records.filter((r) => r.metadata.name === id.name)).toHaveLength(1);

    h.approvals.decide(ref, 'Approved', 'alice');
    const allowed = await authorize(sar({ namespace: 'prod-billing', name }));
    expect(allowed.body.status).toEqual({ allowed: false });
    expect(h.decisions.at(-1)).toMatchObject({ verdict: 'approved', approvalId: ref });
    // Several requests inside the window (kubectl get, a retry) all pass.
    for (let i = 0; i < 3; i++) expect((await authorize(sar({ namespace: 'prod-billing', name }))).body.status).toEqual({ allowed: false });

    // The test policy's window is 2s; after it the read needs a new approval.
    await new Promise((r) => setTimeout(r, 2_100));
    const after = await authorize(sar({ namespace: 'prod-billing', name }));
    expect(after.body.status.denied).toBe(true);
    expect(after.body.status.reason).not.toContain(`${ref} `);
    expect(
      h.approvals.records.filter((r) => r.spec.fingerprint === h.approvals.records.find((x) => x.metadata.name === id.name)!.spec.fingerprint),
    ).toHaveLength(2);
  });

  it('a rejected read stays denied with who rejected it', async () => {
    const name = `rejected-${Date.now()}`;
    await authorize(sar({ namespace: 'prod-billing', name }));
    const r = h.approvals.records.at(-1)!;
    h.approvals.decide(`${r.metadata.namespace}/${r.metadata.name}`, 'Rejected', 'carol', undefined, 'not during the incident');
    const denied = await authorize(sar({ namespace: 'prod-billing', name }));
    expect(denied.body.status).toEqual({ allowed: false, denied: true, reason: 'belay: rejected by carol: not during the incident' });
  });

  it('in observe mode an agent read is never refused (no opinion), and the decision log keeps what would have happened', async () => {
    await h.useData({ mode: 'observe' });
    try {
      const r = await authorize(sar({ namespace: 'locked' }));
      expect(r.body.status).toEqual({ allowed: false });
      expect(h.decisions.at(-1)).toMatchObject({ verdict: 'allow', decision: { decision: 'allow', wouldBe: 'deny', mode: 'observe' } });
    } finally {
      await h.useData({});
    }
  });

  it('refuses malformed reviews with 400 and a clear message', async () => {
    const cases: [unknown, RegExp][] = [
      [{ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1beta1', spec: {} }, /apiVersion must be authorization\.k8s\.io\/v1/],
      [{ kind: 'TokenReview', apiVersion: 'authorization.k8s.io/v1', spec: {} }, /kind must be SubjectAccessReview/],
      [{ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1' }, /spec is missing/],
      [
        { kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'x', groups: 'a', resourceAttributes: {} } },
        /groups must be a list/,
      ],
      [{ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'x' } }, /needs resourceAttributes or nonResourceAttributes/],
      [{ kind: 'SubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { user: 'x', resourceAttributes: { verb: 7 } } }, /verb must be a string/],
    ];
    for (const [body, message] of cases) {
      const r = await authorize(body);
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('bad_request');
      expect(r.body.error.message).toMatch(message);
    }
    expect((await call(h, 'POST', '/authorize', { raw: '{not json' })).status).toBe(400);
    expect((await call(h, 'POST', '/authorize', { raw: 'x', contentType: 'text/plain' })).status).toBe(415);
    expect((await call(h, 'POST', '/authorize', { raw: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }) })).status).toBe(413);
  });
});
