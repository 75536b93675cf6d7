// The trust ladder end to end through the gateway with the default policies:
// the same tool call and the same Secret read, under each trust mode, get
// each mode's treatment (observe, selective, approve, automate).

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT, call, type Harness, startHarness, TOKENS } from '../../src/testkit/agent-api.js';

const POLICIES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../policies');

let h: Harness;
beforeAll(async () => {
  h = await startHarness(POLICIES);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

let n = 0;
/** The same request every time; a fresh name per run so no approval carries over. */
function deleteCall() {
  n++;
  const name = `test-web-${n}`;
  return {
    tool: { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod-billing', name } },
    target: { verb: 'delete', group: 'apps', kind: 'Deployment', resource: 'deployments', namespace: 'prod-billing', name },
    context: { workflow: 'cleanup-v1', confidence: 0.95, remediationTarget: `Deployment/${name}` },
  };
}
const secretRead = () => ({
  apiVersion: 'authorization.k8s.io/v1',
  kind: 'SubjectAccessReview',
  spec: {
    user: AGENT,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:agents'],
    extra: { 'belay.dev/workflow': ['cleanup-v1'] },
    resourceAttributes: { verb: 'get', resource: 'secrets', namespace: 'prod-billing', name: `db-credentials-${n}`, version: 'v1' },
  },
});

async function inMode(trust: Record<string, unknown>, token: string = TOKENS.agent) {
  await h.useData({
    trust: {
      global: 'approve',
      namespaces: {},
      agents: {},
      workflows: {},
      trusted: { workflows: [], agents: [], namespaces: {} },
      // The workflow counts for the agent that runs it, and only for it.
      claimants: { 'cleanup-v1': { serviceAccounts: ['agents/remediator'] } },
      ...trust,
    },
  });
  const before = h.approvals.records.length;
  const tool = await call(h, 'POST', '/v1/tool-calls:evaluate', { token, body: deleteCall() });
  const authz = await call(h, 'POST', '/authorize', { body: secretRead() });
  return { tool: tool.body, authz: authz.body.status, approvalsCreated: h.approvals.records.length - before };
}

describe('trust bound to identity', () => {
  it('defers an agent that claims a trusted workflow it is not listed for, and records the claim as not held', async () => {
    const r = await inMode({ workflows: { 'cleanup-v1': 'automate' } }, TOKENS.other);
    expect(r.tool).toMatchObject({ decision: 'defer', mode: 'approve', wouldBe: null, approval: { phase: 'Pending' } });
    expect(r.tool.warnings[0]).toMatch(
      /^belay trust: workflow "cleanup-v1" is trusted only for the identities data\.belay\.config\.trust\.claimants lists for it, and "system:serviceaccount:agents:other" is not one of them/,
    );
    const record = h.decisions.findLast((d) => d.face === 'toolcall');
    expect(record).toMatchObject({
      verdict: 'defer',
      actor: { username: 'system:serviceaccount:agents:other' },
      decision: { claim: { workflow: 'cleanup-v1', honored: false } },
    });
    expect(r.approvalsCreated).toBe(1);
  });
});

describe('one request, four trust modes', () => {
  it('observe: never blocks, warns, records what would have happened, asks nobody', async () => {
    const r = await inMode({ global: 'observe' });
    expect(r.tool).toMatchObject({
      decision: 'allow',
      mode: 'observe',
      wouldBe: 'defer',
      approval: null,
      warnings: expect.arrayContaining([expect.stringMatching(/^belay observe \(workflow "cleanup-v1"\): would defer to an approver: deleting Deployment/)]),
    });
    expect(h.decisions.at(-2)).toMatchObject({ face: 'toolcall', verdict: 'allow', decision: { wouldBe: 'defer', mode: 'observe' } });
    expect(r.authz).toEqual({ allowed: false });
    expect(r.approvalsCreated).toBe(0);
  });

  it('selective: a new workflow observes, a trusted one is enforced', async () => {
    const untrusted = await inMode({ global: 'selective' });
    expect(untrusted.tool).toMatchObject({ decision: 'allow', mode: 'selective', wouldBe: 'defer' });
    expect(untrusted.authz).toEqual({ allowed: false });
    expect(untrusted.approvalsCreated).toBe(0);
    const trusted = await inMode({ global: 'selective', trusted: { workflows: ['cleanup-v1'], agents: [], namespaces: {} } });
    expect(trusted.tool).toMatchObject({ decision: 'defer', mode: 'selective', approval: { phase: 'Pending' } });
    expect(trusted.authz).toMatchObject({ allowed: false, denied: true, reason: expect.stringMatching(/\[rule secrets\.read\]/) });
    expect(trusted.approvalsCreated).toBe(2);
  });

  it('approve: risky actions defer to a human', async () => {
    const r = await inMode({ global: 'approve' });
    expect(r.tool).toMatchObject({
      decision: 'defer',
      mode: 'approve',
      wouldBe: null,
      approval: { phase: 'Pending' },
      reasons: expect.arrayContaining([expect.objectContaining({ rule: 'destructive.delete_production' })]),
    });
    expect(r.authz).toMatchObject({ denied: true });
    expect(r.approvalsCreated).toBe(2);
  });

  it('automate: a trusted workflow goes ahead without a human; a deny still denies', async () => {
    const r = await inMode({ workflows: { 'cleanup-v1': 'automate' } });
    expect(r.tool).toMatchObject({
      decision: 'allow',
      mode: 'automate',
      wouldBe: 'defer',
      approval: null,
      warnings: expect.arrayContaining([expect.stringMatching(/^belay automate \(trusted, no approval needed\): deleting Deployment/)]),
    });
    expect(r.authz).toEqual({ allowed: false });
    expect(r.approvalsCreated).toBe(0);
    const denied = await call(h, 'POST', '/v1/tool-calls:evaluate', {
      token: TOKENS.agent,
      body: {
        ...deleteCall(),
        tool: {
          name: 'resources_create_or_update',
          arguments: {
            resource: {
              apiVersion: 'rbac.authorization.k8s.io/v1',
              kind: 'ClusterRoleBinding',
              metadata: { name: 'anyone' },
              roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
              subjects: [{ kind: 'Group', name: 'system:unauthenticated', apiGroup: 'rbac.authorization.k8s.io' }],
            },
          },
        },
        target: { verb: 'create' },
      },
    });
    expect(denied.body).toMatchObject({
      decision: 'deny',
      mode: 'automate',
      reasons: expect.arrayContaining([expect.objectContaining({ rule: 'rbac.forbidden_subject' })]),
    });
  });
});
