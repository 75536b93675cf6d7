// The agent API over HTTP: tool calls, tool results, prompts and
// approvals, with bearer tokens, against the test policy in src/testkit/policies/agent.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ON_BEHALF_OF } from '../../src/auth/caller.js';
import { AGENT, call, type Harness, startHarness, TOKENS } from '../../src/testkit/agent-api.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const evaluate = (body: unknown, token: string = TOKENS.agent) => call(h, 'POST', '/v1/tool-calls:evaluate', { token, body });
const redact = (body: unknown, token: string = TOKENS.agent) => call(h, 'POST', '/v1/tool-results:redact', { token, body });
const check = (body: unknown, token: string = TOKENS.agent) => call(h, 'POST', '/v1/prompts:check', { token, body });
const approval = (url: string, token: string = TOKENS.agent) => call(h, 'GET', url, { token });

const del = (name: string, extra: Record<string, unknown> = {}) => ({
  tool: { name: 'resources_delete', arguments: { name } },
  target: { kind: 'Pod', namespace: 'team-a', cluster: 'dev' },
  ...extra,
});

const OPENSHIFT_TOKEN = `sha256~${'Zk9yVGVzdHNPbmx5Tm90QVJlYWxUb2tlbjEyMzQ1Ng'}x`;

describe('routing and authentication', () => {
  it('routes the colon paths, and only those', async () => {
    expect((await evaluate({ tool: { name: 'pods_list', arguments: {} } })).status).toBe(200);
    expect((await redact({ tool: { name: 'pods_list' }, result: '{}' })).status).toBe(200);
    expect((await check({ text: 'hello' })).status).toBe(200);
    const wrong = await call(h, 'POST', '/v1/tool-calls:run', { token: TOKENS.agent, body: {} });
    expect(wrong.status).toBe(404);
    expect((await call(h, 'POST', '/v1/tool-calls', { token: TOKENS.agent, body: {} })).status).toBe(404);
  });

  it('needs a valid bearer token on every endpoint, and says so', async () => {
    for (const [method, path] of [
      ['POST', '/v1/tool-calls:evaluate'],
      ['POST', '/v1/tool-results:redact'],
      ['POST', '/v1/prompts:check'],
      ['GET', '/v1/approvals/belay/x'],
    ] as const) {
      const none = await call(h, method, path, method === 'POST' ? { body: {} } : {});
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="belay"');
      expect(none.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/Authorization header/) });
      const bad = await call(h, method, path, { token: 'not-a-real-token-at-all', ...(method === 'POST' ? { body: {} } : {}) });
      expect(bad.status).toBe(401);
    }
  });

  it('refuses a caller that claims to be another agent', async () => {
    const r = await evaluate({ agent: 'system:serviceaccount:agents:other', tool: { name: 'pods_list' } });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/authenticates system:serviceaccount:agents:remediator, which cannot act as system:serviceaccount:agents:other/);
  });

  it('answers bad input with a clear 4xx and records nothing', async () => {
    const before = h.decisions.length;
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /"tool" is required/],
      [{ tool: { name: '' } }, 400, /"tool.name"/],
      [{ tool: { name: 'x', arguments: [1] } }, 400, /"tool.arguments" must be an object/],
      [{ tool: { name: 'x', target: { namespace: 5 } } }, 400, /"target.namespace"/],
      [{ tool: { name: 'x' }, context: 'wf' }, 400, /"context" must be an object/],
      [{ tool: { name: 'x' }, dryRun: 'yes' }, 400, /"dryRun" must be a boolean/],
      [[1, 2], 400, /must be a JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const r = await evaluate(body);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.body.error.message).toMatch(message);
    }
    expect((await call(h, 'POST', '/v1/tool-calls:evaluate', { token: TOKENS.agent, raw: '{"tool":' })).status).toBe(400);
    expect((await call(h, 'POST', '/v1/prompts:check', { token: TOKENS.agent, raw: 'text', contentType: 'text/plain' })).status).toBe(415);
    const big = await check({ text: 'x'.repeat(300 * 1024) });
    expect(big.status).toBe(413);
    expect((await redact({ tool: { name: 'resources_get' }, result: '{"a": ', format: 'json' })).body.error.message).toMatch(/not valid JSON/);
    expect((await redact({ tool: { name: 'resources_get' } })).status).toBe(400);
    expect((await check({ text: 42 })).status).toBe(400);
    expect(h.decisions.length).toBe(before);
  });
});

describe('POST /v1/tool-calls:evaluate', () => {
  it('allows, denies with the reason, and records the decision', async () => {
    const ok = await evaluate({ tool: { name: 'pods_list', arguments: { namespace: 'team-a' } }, requestId: 'call-1' });
    expect(ok.body).toMatchObject({
      decision: 'allow',
      reasons: [],
      approval: null,
      mode: 'approve',
      tool: { name: 'pods_list', arguments: { namespace: 'team-a' } },
      edited: false,
    });
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(h.decisions.at(-1)).toMatchObject({ face: 'toolcall', id: 'call-1', verdict: 'allow' });
    const no = await evaluate({ tool: { name: 'pods_exec', arguments: { namespace: 'team-a', name: 'web-1', command: ['sh'] } } });
    expect(no.body).toMatchObject({ decision: 'deny', message: 'agents may not exec into pods [rule test.tool.exec]', reasons: [{ rule: 'test.tool.exec' }] });
  });

  it('use case 1: a delete in prod defers; the approver sees cluster and namespace and denies; the agent is refused', async () => {
    const call1 = {
      tool: { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web' } },
      target: { verb: 'delete', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web', cluster: 'prod-billing' },
      context: { rationale: 'clean up old test deployments' },
      onBehalfOf: 'dana',
      requestId: 'uc1-1',
    };
    const deferred = await evaluate(call1);
    expect(deferred.body).toMatchObject({
      decision: 'defer',
      reasons: [{ rule: 'test.tool.delete', message: 'deleting Deployment in "prod-billing" (cluster "prod-billing") needs a human' }],
      approval: { phase: 'Pending', id: expect.stringMatching(/^belay\/belay-/), url: expect.stringMatching(/^\/v1\/approvals\/belay\/belay-/) },
    });
    expect(h.approvals.calls.at(-1)!.input.actor.extra[ON_BEHALF_OF]).toEqual(['dana']);
    const { id, url } = deferred.body.approval;

    const seen = await approval(url, TOKENS.approver);
    expect(seen.body).toMatchObject({
      id,
      phase: 'Pending',
      face: 'toolcall',
      request: { namespace: 'prod-billing', kind: 'Deployment', name: 'test-web' },
      tool: { name: 'resources_delete', target: { cluster: 'prod-billing' } },
      arguments: { namespace: 'prod-billing' },
    });

    // The agent long-polls; the approver denies meanwhile.
    const waiting = approval(`${url}?wait=3s`);
    await new Promise((r) => setTimeout(r, 100));
    h.approvals.decide(id, 'Rejected', 'alice', undefined, 'wrong cluster: this is prod-billing');
    const done = await waiting;
    expect(done.body).toMatchObject({ phase: 'Rejected', decidedBy: 'alice', message: 'wrong cluster: this is prod-billing' });

    const retried = await evaluate({ ...call1, requestId: 'uc1-2' });
    expect(retried.body).toMatchObject({ decision: 'deny', approval: { id, phase: 'Rejected' } });
  });

  it('use case 3: a ClusterRoleBinding defers; the approver edits it to a RoleBinding; the edited call is checked and returned', async () => {
    const crb =
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: default-admin\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: team-a}]\n';
    const rb =
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: default-admin\n  namespace: team-a\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}\nsubjects: [{kind: ServiceAccount, name: default, namespace: team-a}]\n';
    const call3 = {
      tool: { name: 'resources_create_or_update', arguments: { resource: crb } },
      target: { verb: 'create', group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', name: 'default-admin' },
      requestId: 'uc3-1',
    };
    const deferred = await evaluate(call3);
    expect(deferred.body).toMatchObject({ decision: 'defer', reasons: [{ rule: 'test.tool.cluster_admin', severity: 'critical' }] });
    const { id, url } = deferred.body.approval;

    h.approvals.decide(id, 'Approved', 'alice', { arguments: { resource: rb } });
    const seen = await approval(url);
    expect(seen.body).toMatchObject({ phase: 'Approved', edited: true, arguments: { resource: rb } });

    const run = await evaluate(call3);
    expect(run.body).toMatchObject({
      decision: 'allow',
      edited: true,
      approval: { id, phase: 'Approved', decidedBy: 'alice' },
      tool: { name: 'resources_create_or_update', arguments: { resource: rb }, target: { kind: 'RoleBinding', namespace: 'team-a' } },
    });
    expect(h.decisions.at(-1)).toMatchObject({ verdict: 'approved', approvalId: id, request: { kind: 'RoleBinding', namespace: 'team-a' } });
    // The approval was used once: the same request id again is not a free replay, it asks anew (issue 12).
    expect((await evaluate(call3)).body).toMatchObject({ decision: 'defer', approval: { phase: 'Pending' } });
    expect((await evaluate({ ...call3, requestId: 'uc3-2' })).body).toMatchObject({ decision: 'defer', approval: { phase: 'Pending' } });
  });

  it("an approver's edit that policy denies does not use the approval", async () => {
    const crb = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } };
    const call = { tool: { name: 'resources_create_or_update', arguments: { resource: crb } }, requestId: 'edit-deny' };
    const { body } = await evaluate(call);
    h.approvals.decide(body.approval.id, 'Approved', 'alice', {
      patch: [{ op: 'replace', path: '/resource', value: { kind: 'RoleBinding', metadata: { name: 'x', namespace: 'kube-system' } } }],
    });
    const r = await evaluate(call);
    expect(r.body).toMatchObject({
      decision: 'deny',
      approval: { phase: 'Refused', message: expect.stringMatching(/edit is denied by policy: nothing may be bound in kube-system/) },
    });
    expect(h.approvals.records.find((x) => `belay/${x.metadata.name}` === body.approval.id)!.status!.phase).toBe('Approved');
  });

  it('replacement arguments that policy denies do not use the approval either', async () => {
    const crb = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'y' } };
    const call = { tool: { name: 'resources_create_or_update', arguments: { resource: crb } }, requestId: 'edit-args-deny' };
    const { body } = await evaluate(call);
    h.approvals.decide(body.approval.id, 'Approved', 'alice', {
      arguments: { resource: { kind: 'RoleBinding', metadata: { name: 'y', namespace: 'kube-system' } } },
    });
    const r = await evaluate({ ...call, requestId: 'edit-args-deny-2' });
    expect(r.body).toMatchObject({
      decision: 'deny',
      edited: false,
      approval: { phase: 'Refused', message: expect.stringMatching(/edit is denied by policy: nothing may be bound in kube-system/) },
    });
    expect(h.approvals.records.find((x) => `belay/${x.metadata.name}` === body.approval.id)!.status!.phase).toBe('Approved');
  });

  it('a crash while deciding is a deny that says so, and is on record (every answer an agent gets is)', async () => {
    const resolve = h.approvals.resolve;
    h.approvals.resolve = async () => {
      throw new Error('the approval store fell over');
    };
    try {
      const r = await evaluate(del('crash-1'));
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ decision: 'deny', error: { code: 'internal', message: 'the approval store fell over' } });
      expect(r.body.message).toMatch(/fail closed/);
      expect(h.decisions.at(-1)).toMatchObject({ face: 'toolcall', verdict: 'error', actor: { username: AGENT } });
    } finally {
      h.approvals.resolve = resolve;
    }
  });

  it('a dry run defers without creating an approval', async () => {
    const before = h.approvals.records.length;
    const r = await evaluate(del('dry', { dryRun: true }));
    expect(r.body).toMatchObject({ decision: 'defer', approval: { id: null, phase: 'Pending' } });
    expect(h.approvals.records.length).toBe(before);
  });
});

describe('GET /v1/approvals/{id}', () => {
  it('is readable by the requester and approvers only, and 400/404 for bad ids', async () => {
    const { body } = await evaluate(del('visibility'));
    expect((await approval(body.approval.url, TOKENS.other)).status).toBe(404);
    expect((await approval(body.approval.url, TOKENS.human)).status).toBe(404);
    expect((await approval(body.approval.url, TOKENS.approver)).status).toBe(200);
    expect((await approval('/v1/approvals/belay/does-not-exist')).status).toBe(404);
    expect((await approval('/v1/approvals/Not_A_Name')).status).toBe(400);
    expect((await approval(`${body.approval.url}?wait=forever`)).status).toBe(400);
    const id = encodeURIComponent(body.approval.id);
    expect((await approval(`/v1/approvals/${id}`)).body.id).toBe(body.approval.id);
  });

  it('a long poll returns at the deadline when nothing changes', async () => {
    const { body } = await evaluate(del('slow'));
    const t = Date.now();
    const r = await approval(`${body.approval.url}?wait=300ms`);
    expect(r.body.phase).toBe('Pending');
    expect(Date.now() - t).toBeGreaterThanOrEqual(250);
  });
});

describe('POST /v1/tool-results:redact', () => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db-credentials', namespace: 'prod-billing' }, data: { password: 'aHVudGVyMg==' } };

  it('use case 2: a Secret read defers with values redacted; [Edit] keeps them redacted, [Approve] lets them through', async () => {
    const tool = { name: 'resources_get', arguments: { apiVersion: 'v1', kind: 'Secret', namespace: 'prod-billing', name: 'db-credentials' } };
    const first = await redact({ tool, result: JSON.stringify(secret), requestId: 'uc2-1' });
    expect(first.body).toMatchObject({
      decision: 'defer',
      reasons: [{ rule: 'test.result.secret' }],
      approval: { phase: 'Pending' },
      format: 'json',
      redactions: [{ pointer: '/data/password' }],
    });
    expect(JSON.parse(first.body.result).data.password).toBe('[REDACTED]');

    h.approvals.decide(first.body.approval.id, 'Approved', 'alice', { arguments: tool.arguments }, 'redact it');
    const edited = await redact({ tool, result: JSON.stringify(secret), requestId: 'uc2-1' });
    expect(edited.body).toMatchObject({ decision: 'allow', approval: { phase: 'Approved', message: expect.stringMatching(/stays redacted/) } });
    expect(JSON.parse(edited.body.result).data.password).toBe('[REDACTED]');

    const again = await redact({ tool, result: JSON.stringify(secret), requestId: 'uc2-2' });
    h.approvals.decide(again.body.approval.id, 'Approved', 'alice');
    const raw = await redact({ tool, result: JSON.stringify(secret), requestId: 'uc2-2' });
    expect(raw.body).toMatchObject({ decision: 'allow', redactions: [] });
    expect(JSON.parse(raw.body.result).data.password).toBe('aHVudGVyMg==');
  });

  it("the tool call's approval decides: [Approve] lets the values through, [Edit] keeps them redacted, another call's approval does not count", async () => {
    const tool = { name: 'resources_get', arguments: { kind: 'Secret', namespace: 'prod-billing', name: 'db-credentials' } };
    const approvedCall = async (t: typeof tool, override?: { arguments: Record<string, unknown> }) => {
      const { body } = await evaluate({ tool: t, requestId: `get-${Math.random()}` });
      expect(body).toMatchObject({ decision: 'defer', reasons: [{ rule: 'test.tool.secret_read' }] });
      h.approvals.decide(body.approval.id, 'Approved', 'alice', override);
      return body.approval.id as string;
    };
    const plain = await approvedCall(tool);
    const raw = await redact({ tool, result: secret, approvalId: plain });
    expect(raw.body).toMatchObject({ decision: 'allow', approval: { id: plain, phase: 'Approved' }, redactions: [], result: secret });

    const yamlTool = { ...tool, arguments: { ...tool.arguments, output: 'yaml' } };
    const edited = await approvedCall(yamlTool, { arguments: yamlTool.arguments });
    const kept = await redact({ tool: yamlTool, result: secret, approvalId: edited });
    expect(kept.body).toMatchObject({
      decision: 'allow',
      approval: { id: edited, message: expect.stringMatching(/stays redacted/) },
      result: { data: { password: '[REDACTED]' } },
    });

    const other = await redact({ tool: { ...tool, arguments: { ...tool.arguments, name: 'other' } }, result: secret, approvalId: plain });
    // Not this call's approval: the result face's own defer applies, and the caller is told why.
    expect(other.body).toMatchObject({ decision: 'defer', warnings: [expect.stringMatching(/for another call/)] });
    expect(other.body.result.data.password).toBe('[REDACTED]');
    const stranger = await redact({ tool, result: secret, approvalId: plain }, TOKENS.other);
    expect(stranger.body).toMatchObject({ decision: 'defer', warnings: [expect.stringMatching(/no approval .* for this agent/)] });
    expect(stranger.body.result.data.password).toBe('[REDACTED]');
  });

  it('redacts Secrets in allowed results too, YAML in YAML out, and policy-listed paths', async () => {
    const yaml = 'kind: Secret\napiVersion: v1\nmetadata:\n  name: s\nstringData:\n  token: abc # keep the comment\n';
    const r = await redact({ tool: { name: 'resources_list' }, result: yaml });
    expect(r.body).toMatchObject({ decision: 'allow', format: 'yaml' });
    expect(r.body.result).toBe('kind: Secret\napiVersion: v1\nmetadata:\n  name: s\nstringData:\n  token: "[REDACTED]" # keep the comment\n');
    const cm = await redact({ tool: { name: 'resources_get' }, result: { kind: 'ConfigMap', data: { 'api.key': 'k', mode: 'm' } } });
    expect(cm.body.result).toEqual({ kind: 'ConfigMap', data: { 'api.key': '[REDACTED]', mode: 'm' } });
  });

  it('withholds a result policy denies', async () => {
    const r = await redact({ tool: { name: 'nodes_log' }, result: 'kubelet: started' });
    expect(r.body).toMatchObject({ decision: 'deny', result: null, message: 'node logs never reach the model [rule test.result.withheld]' });
  });
});

describe('POST /v1/prompts:check', () => {
  it('use case 5: a log dump with a live sha256~ token is refused, with the span and a redacted text', async () => {
    const text = `here is the log:\nE0101 auth failed for token ${OPENSHIFT_TOKEN} on pod web-1\nimage sha256:${'ab'.repeat(32)}`;
    const r = await check({ text, context: { workflow: 'ols-chat' } });
    expect(r.body).toMatchObject({ decision: 'deny', reasons: [{ rule: 'test.prompt.secret', message: 'the prompt contains cluster-token' }] });
    expect(r.body.findings).toHaveLength(1);
    const f = r.body.findings[0];
    expect(f).toMatchObject({ kind: 'cluster-token', line: 2 });
    expect(text.slice(f.start, f.end)).toBe(OPENSHIFT_TOKEN);
    expect(r.body.redacted).toBe(text.replace(OPENSHIFT_TOKEN, '[REDACTED]'));
    // Policy and the decision log saw the redacted text only.
    expect(JSON.stringify(h.decisions.at(-1))).not.toContain(OPENSHIFT_TOKEN);
    // [Edit]: the redacted text passes.
    expect((await check({ text: r.body.redacted })).body).toMatchObject({ decision: 'allow', findings: [] });
  });
});
