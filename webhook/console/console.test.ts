// The approvals console over HTTPS on a real gateway in local mode: the page
// and its headers, bearer tokens on every API call, what a deferred request
// shows, and Approve / Reject / Edit with separation of duties — each checked
// against what the agent's retry then gets from the admission webhook.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TOKEN, admit, type ConsoleFixture, deferringReview, request, startConsoleGateway, TOKENS, withObject } from '../../src/testkit/console.js';
import { startGateway } from '../gateway.js';
import { CONTENT_SECURITY_POLICY } from './assets.js';

let f: ConsoleFixture;
beforeAll(async () => {
  f = await startConsoleGateway();
});
afterAll(async () => {
  await f?.close();
});

const api = (method: string, path: string, token: string | undefined, body?: unknown) =>
  request(f, method, `/console/api/${path}`, { ...(token !== undefined ? { token } : {}), ...(body !== undefined ? { body } : {}) });
const decide = (id: string, token: string, body: unknown) => api('POST', `approvals/${id}/decision`, token, body);

/** Defers a new request and returns the id of the ApprovalRequest it created. */
async function deferred(uid: string, o: Parameters<typeof deferringReview>[1] = {}): Promise<{ id: string; review: ReturnType<typeof deferringReview> }> {
  const review = deferringReview(uid, o);
  const answer = await admit(f, 'validate', review);
  expect(answer.allowed).toBe(false);
  const m = /ApprovalRequest ([a-z0-9-]+\/belay-[0-9a-f]+(?:-\d+)?) is Pending/.exec(answer.status?.message ?? '');
  expect(m, answer.status?.message).not.toBeNull();
  return { id: m![1]!, review };
}

describe('the page', () => {
  it('redirects /console to /console/ and serves the page with a strict CSP', async () => {
    const bare = await request(f, 'GET', '/console');
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe('/console/');
    const page = await request(f, 'GET', '/console/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
  });

  it('has no inline script, handler or style, and loads nothing from elsewhere', async () => {
    const page = (await request(f, 'GET', '/console/')).text;
    const scripts = [...page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]![1]).toMatch(/src="console\.js"/);
    expect(scripts[0]![2]!.trim()).toBe('');
    expect(page).not.toMatch(/\son[a-z]+\s*=/i);
    expect(page).not.toMatch(/\sstyle\s*=/i);
    expect(page).not.toMatch(/<style/i);
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\//);
    const js = await request(f, 'GET', '/console/console.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(js.text).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
    expect(js.text).not.toMatch(/localStorage/);
    expect((await request(f, 'GET', '/console/console.css')).headers['content-type']).toMatch(/^text\/css/);
    expect((await request(f, 'GET', '/console/nope.js')).status).toBe(404);
    // Only the fixed list of files is served: nothing maps a path onto the file system.
    expect((await request(f, 'GET', '/console/%2e%2e%2fpackage.json')).status).toBe(404);
    expect((await request(f, 'GET', '/console/static/console.js')).status).toBe(404);
  });
});

describe('authentication', () => {
  it('needs a valid approver token on every API route, and says so', async () => {
    const routes: [string, string][] = [
      ['GET', 'session'],
      ['GET', 'approvals'],
      ['GET', 'approvals/team-a/x'],
      ['POST', 'approvals/team-a/x/decision'],
    ];
    for (const [method, path] of routes) {
      const none = await api(method, path, undefined, method === 'POST' ? { action: 'approve' } : undefined);
      expect(none.status, path).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Bearer realm="belay"');
      expect(none.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/Authorization header/) });
      const bad = await api(method, path, 'not-a-real-token-at-all', method === 'POST' ? { action: 'approve' } : undefined);
      expect(bad.status, path).toBe(401);
      expect(bad.body.error.message).toMatch(/not valid/);
    }
  });

  it('refuses static approver tokens in cluster mode before starting anything', async () => {
    await expect(
      startGateway({ port: 0, kubeconfig: '/nonexistent/kubeconfig', console: { approverTokenFile: '/nonexistent/approvers.yaml' } }),
    ).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/--approver-token-file is for local mode/),
    });
  });

  it('says who the token belongs to', async () => {
    const me = await api('GET', 'session', TOKENS.bob);
    expect(me.status).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    expect(me.body).toEqual({ user: { username: 'bob', groups: ['belay:approvers', 'sre'] }, mode: 'local' });
  });
});

describe('reviewing a deferred request', () => {
  it('lists it pending with what the agent tried, who asked, why, the agent context and the proposed fix', async () => {
    const { id } = await deferred('show-1', {
      name: 'checkout',
      labels: { 'test/fix': 'yes' },
      onBehalfOf: 'dana',
      annotations: {
        'belay.dev/workflow': 'crashloop-rollback-v1',
        'belay.dev/confidence': '0.62',
        'belay.dev/rationale': 'pod checkout-1 in CrashLoopBackOff since the last rollout',
        'belay.dev/cluster': 'prod-billing-eu1',
      },
    });
    const list = await api('GET', 'approvals', TOKENS.alice);
    expect(list.status).toBe(200);
    const item = list.body.items.find((i: { id: string }) => i.id === id);
    expect(item).toMatchObject({
      phase: 'Pending',
      summary: 'CREATE Deployment team-a/checkout',
      action: { operation: 'CREATE', kind: 'Deployment', namespace: 'team-a', name: 'checkout', cluster: 'prod-billing-eu1' },
      requester: { user: 'system:serviceaccount:agents:bot', onBehalfOf: 'dana', agent: true },
      reasons: expect.arrayContaining([
        { rule: 'test.defer', message: 'this change needs a human', severity: 'medium' },
        expect.objectContaining({ rule: 'test.fix' }),
      ]),
      context: {
        workflow: 'crashloop-rollback-v1',
        confidence: 0.62,
        rationale: 'pod checkout-1 in CrashLoopBackOff since the last rollout',
        cluster: 'prod-billing-eu1',
        source: 'annotation',
      },
      hasFix: true,
      decision: null,
      you: { mayDecide: true, why: null },
    });
    expect(Date.parse(item.requiredBy) - Date.parse(list.body.now)).toBeGreaterThan(14 * 60_000);
    expect(list.body.pending).toBeGreaterThanOrEqual(1);
    expect(list.body.items[0].phase).toBe('Pending');

    const detail = await api('GET', `approvals/${id}`, TOKENS.alice);
    expect(detail.body).toMatchObject({
      id,
      fixes: [{ op: 'add', path: '/metadata/labels/fixed', value: 'true' }],
      fixError: null,
      bundleRevision: 'console-rev',
    });
    expect(detail.body.fixDiff).toContainEqual({ kind: 'add', text: '    fixed: "true"' });
    expect(detail.body.fixDiff.filter((l: { kind: string }) => l.kind === 'remove')).toEqual([]);
    expect(detail.body.objectYaml).toMatch(/^kind: Deployment$/m);

    // The human the agent acts for sees it too, and is told up front they cannot decide it.
    const dana = await api('GET', `approvals/${id}`, TOKENS.dana);
    expect(dana.body.you).toEqual({ mayDecide: false, why: expect.stringMatching(/on behalf of dana, who may not decide it/) });
  });

  it('hides requests from someone who is neither an approver nor the requester', async () => {
    const { id } = await deferred('hide-1', { name: 'hidden' });
    const list = await api('GET', 'approvals', TOKENS.carol);
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([]);
    expect((await api('GET', `approvals/${id}`, TOKENS.carol)).status).toBe(404);
    expect((await decide(id, TOKENS.carol, { action: 'approve' })).status).toBe(404);
  });

  it('returns hostile strings verbatim as JSON data (the page renders them as text)', async () => {
    const hostile = '<img src=x onerror="alert(1)"></dd><script>alert(2)</script>';
    const { id } = await deferred('xss-1', { name: 'xss', annotations: { 'belay.dev/rationale': hostile, 'belay.dev/workflow': '"><svg onload=alert(3)>' } });
    const r = await api('GET', `approvals/${id}`, TOKENS.alice);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.body.context).toMatchObject({ rationale: hostile, workflow: '"><svg onload=alert(3)>' });
  });

  it('answers bad ids and queries with 400 or 404', async () => {
    expect((await api('GET', 'approvals/Team_A/x', TOKENS.alice)).status).toBe(400);
    expect((await api('GET', 'approvals/team-a/does-not-exist', TOKENS.alice)).status).toBe(404);
    expect((await api('GET', 'approvals?namespace=Not_A_NS', TOKENS.alice)).status).toBe(400);
    expect((await api('GET', 'approvals?wait=forever&since=x', TOKENS.alice)).status).toBe(400);
    expect((await api('GET', 'approvals?since=a&since=b', TOKENS.alice)).status).toBe(400);
  });
});

describe('deciding', () => {
  it("approve: recorded as the approver, and the agent's retry is admitted once", async () => {
    const { id, review } = await deferred('ok-1', { name: 'approve-me' });
    const r = await decide(id, TOKENS.alice, { action: 'approve', message: 'looks right' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id, phase: 'Approved', decision: { by: 'alice', message: 'looks right', edited: false } });
    expect((await admit(f, 'validate', withObject(review, 'ok-2', review.request.object))).allowed).toBe(true);
    expect((await admit(f, 'validate', withObject(review, 'ok-3', review.request.object))).allowed).toBe(false);
    const after = await api('GET', `approvals/${id}`, TOKENS.alice);
    expect(after.body).toMatchObject({ phase: 'Consumed', consumption: { requestUid: 'ok-2' } });
  });

  it('refuses self-approval by the human the agent acts for, with the reason, and changes nothing', async () => {
    const { id } = await deferred('self-1', { name: 'self', onBehalfOf: 'dana' });
    const before = (await api('GET', `approvals/${id}`, TOKENS.alice)).body;
    const seen = f.decisions.length;
    const r = await decide(id, TOKENS.dana, { action: 'approve' });
    expect(r.status).toBe(403);
    expect(r.body.error).toEqual({
      code: 'forbidden',
      message: expect.stringMatching(/made this request on behalf of dana, who may not decide it; another member of belay:approvers must/),
    });
    const after = (await api('GET', `approvals/${id}`, TOKENS.alice)).body;
    expect(after).toMatchObject({ phase: 'Pending', resourceVersion: before.resourceVersion, decision: null });
    expect(f.decisions.slice(seen)).toMatchObject([{ verdict: 'approval-refused', actor: { username: 'dana' }, approvalId: id }]);
  });

  it('refuses an agent and a non-approver', async () => {
    const { id } = await deferred('who-1', { name: 'who' });
    const agent = await decide(id, TOKENS.bot, { action: 'approve' });
    expect(agent.status).toBe(403);
    expect(agent.body.error.message).toMatch(/agent identity, and agents may not approve or reject/);
    // carol cannot even see it; an approver of another group would be refused by the store the same way.
    expect((await decide(id, TOKENS.carol, { action: 'approve' })).status).toBe(404);
  });

  it("reject needs a message; the agent's retries carry it", async () => {
    const { id, review } = await deferred('no-1', { name: 'reject-me' });
    const empty = await decide(id, TOKENS.bob, { action: 'reject', message: '   ' });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/rejection needs a "message"/);
    const r = await decide(id, TOKENS.bob, { action: 'reject', message: 'wrong cluster: this is prod-billing' });
    expect(r.body).toMatchObject({ phase: 'Rejected', decision: { by: 'bob', message: 'wrong cluster: this is prod-billing' } });
    const retry = await admit(f, 'validate', withObject(review, 'no-2', review.request.object));
    expect(retry.allowed).toBe(false);
    expect(retry.status?.message).toMatch(/rejected by bob: wrong cluster: this is prod-billing/);
  });

  it('a decision is final: a second one is a 409 conflict, as is a stale view', async () => {
    const { id } = await deferred('twice-1', { name: 'twice' });
    const seen = (await api('GET', `approvals/${id}`, TOKENS.alice)).body.resourceVersion;
    expect((await decide(id, TOKENS.alice, { action: 'approve', resourceVersion: seen })).status).toBe(200);
    const again = await decide(id, TOKENS.bob, { action: 'reject', message: 'no' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/already Approved \(decided by alice at .*\); a decision is final/);
    const stale = await decide(id, TOKENS.bob, { action: 'approve', resourceVersion: seen });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/changed since you looked at it/);
  });

  it("edit: the edited object (YAML) is what the agent's retry admits", async () => {
    const { id, review } = await deferred('edit-1', { name: 'edit-me', replicas: 5 });
    const yaml = (await api('GET', `approvals/${id}`, TOKENS.alice)).body.objectYaml as string;
    const r = await decide(id, TOKENS.alice, { action: 'edit', object: yaml.replace('replicas: 5', 'replicas: 2'), message: 'two is enough' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ phase: 'Approved', override: { patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }] }, decision: { edited: true } });
    expect(r.body.overrideDiff).toEqual(
      expect.arrayContaining([
        { kind: 'remove', text: '  replicas: 5' },
        { kind: 'add', text: '  replicas: 2' },
      ]),
    );

    const mutate = await admit(f, 'mutate', withObject(review, 'edit-2', review.request.object));
    expect(mutate.allowed).toBe(true);
    expect(JSON.parse(Buffer.from(mutate.patch!, 'base64').toString())).toEqual([{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    const edited = structuredClone(review.request.object);
    edited.spec.replicas = 2;
    expect((await admit(f, 'validate', withObject(review, 'edit-2v', edited))).allowed).toBe(true);
  });

  it('approve and apply fix: the proposed fix is the edit', async () => {
    const { id } = await deferred('fix-1', { name: 'fix-me', labels: { 'test/fix': 'yes' } });
    const r = await decide(id, TOKENS.alice, { action: 'approve', applyFixes: true });
    expect(r.body).toMatchObject({ phase: 'Approved', override: { patch: [{ op: 'add', path: '/metadata/labels/fixed', value: 'true' }] } });
  });

  it('refuses malformed decisions with 400/415 and writes nothing', async () => {
    const { id } = await deferred('bad-1', { name: 'bad-input' });
    const cases: [unknown, RegExp][] = [
      [{}, /"action" must be one of approve, reject, edit/],
      [{ action: 'delete' }, /"action" must be one of/],
      [[1], /must be a JSON object/],
      [{ action: 'approve', sneaky: true }, /unknown field "sneaky"/],
      [{ action: 'approve', applyFixes: true }, /no proposed fix/],
      [{ action: 'approve', patch: [] }, /only go with "action": "edit"/],
      [{ action: 'edit' }, /exactly one of "patch"/],
      [{ action: 'edit', patch: '[{"op": "replace"' }, /"patch" is not valid JSON/],
      [{ action: 'edit', patch: [{ op: 'replace', path: '/kind', value: 'Pod' }] }, /cannot change the object's kind, name or namespace/],
      [{ action: 'edit', patch: [{ op: 'remove', path: '/spec/nope' }] }, /does not apply to the requested object/],
      [{ action: 'edit', patch: [{ op: 'replace', path: '/spec/replicas', value: 'three' }] }, /not a valid Deployment/],
      [{ action: 'edit', object: 'a: [' }, /"object" is not valid YAML or JSON/],
      [{ action: 'edit', arguments: { x: 1 } }, /not a tool call/],
      [{ action: 'approve', message: 'x'.repeat(5000) }, /longer than 4096/],
    ];
    for (const [body, message] of cases) {
      const r = await decide(id, TOKENS.alice, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.message).toMatch(message);
    }
    const raw = await request(f, 'POST', `/console/api/approvals/${id}/decision`, { token: TOKENS.alice, raw: '{"action":', contentType: 'application/json' });
    expect(raw.status).toBe(400);
    const text = await request(f, 'POST', `/console/api/approvals/${id}/decision`, {
      token: TOKENS.alice,
      raw: 'action=approve',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(text.status).toBe(415);
    expect((await api('GET', `approvals/${id}`, TOKENS.alice)).body).toMatchObject({ phase: 'Pending', resourceVersion: '1' });
  });
});

describe('a deferred tool call', () => {
  const evaluate = (body: unknown) => request(f, 'POST', '/v1/tool-calls:evaluate', { token: AGENT_TOKEN, body });
  const call = {
    tool: { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web' } },
    target: { verb: 'delete', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web', cluster: 'prod-billing' },
    context: { rationale: 'clean up old test deployments' },
    onBehalfOf: 'dana',
    requestId: 'tc-1',
  };

  it('shows the tool, its arguments and the target cluster; [Edit] replaces the arguments the agent then runs', async () => {
    const first = await evaluate(call);
    expect(first.body).toMatchObject({ decision: 'defer', approval: { phase: 'Pending' } });
    const id = first.body.approval.id as string;

    const seen = await api('GET', `approvals/${id}`, TOKENS.alice);
    expect(seen.body).toMatchObject({
      face: 'toolcall',
      summary: expect.stringMatching(/^tool resources_delete/),
      action: { cluster: 'prod-billing', tool: 'resources_delete' },
      requester: { onBehalfOf: 'dana', agent: true },
      reasons: [{ rule: 'test.tool.delete', message: 'deleting Deployment prod-billing/test-web needs a human' }],
      tool: { name: 'resources_delete', arguments: call.tool.arguments, target: { cluster: 'prod-billing' } },
      object: null,
    });
    // A tool call is edited through its arguments, not an object patch.
    expect((await decide(id, TOKENS.alice, { action: 'edit', patch: [{ op: 'replace', path: '/spec', value: 1 }] })).body.error.message).toMatch(
      /no object to edit/,
    );
    const edited = await decide(id, TOKENS.alice, { action: 'edit', arguments: 'apiVersion: apps/v1\nkind: Deployment\nnamespace: staging\nname: test-web\n' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ phase: 'Approved', override: { arguments: { namespace: 'staging' } }, decision: { by: 'alice', edited: true } });
    expect(edited.body.overrideDiff).toEqual(
      expect.arrayContaining([
        { kind: 'remove', text: 'namespace: prod-billing' },
        { kind: 'add', text: 'namespace: staging' },
      ]),
    );

    const retry = await evaluate(call);
    expect(retry.body).toMatchObject({
      decision: 'allow',
      edited: true,
      approval: { id, decidedBy: 'alice' },
      tool: { arguments: { namespace: 'staging', name: 'test-web' } },
    });
  });
});

describe('live list', () => {
  it('a long poll answers as soon as the list changes, and at the deadline when it does not', async () => {
    const first = await api('GET', 'approvals', TOKENS.alice);
    const version = first.body.version as string;
    const t0 = Date.now();
    const idle = await api('GET', `approvals?since=${version}&wait=700ms`, TOKENS.alice);
    expect(idle.body.version).toBe(version);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);

    const waiting = api('GET', `approvals?since=${version}&wait=20s`, TOKENS.alice);
    await new Promise((r) => setTimeout(r, 300));
    const t1 = Date.now();
    const { id } = await deferred('live-1', { name: 'live' });
    const changed = await waiting;
    expect(changed.body.version).not.toBe(version);
    expect(changed.body.items.map((i: { id: string }) => i.id)).toContain(id);
    expect(Date.now() - t1).toBeLessThan(10_000);
  });
});
