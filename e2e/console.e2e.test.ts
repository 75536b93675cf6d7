// The approvals console in cluster mode, on the real kube-apiserver. The
// gateway runs as system:serviceaccount:belay:belay (--kubeconfig), so the
// console asks the API server who a bearer token is (TokenReview) and then
// lists, reads and decides with that token, never its own. The approvers'
// tokens come from the API server's --token-auth-file (cluster-up.sh): the
// same users and groups as their client certificates.
//
// What proves whose credentials reached the API server: belay's mutating
// approvals webhook sets status.decidedBy from the authenticated caller, and
// its validating webhook refuses any decision by the gateway's account, by
// an agent, or by the human an agent acts for — so "decidedBy: alice" and
// refusals naming bob or approver-bot can only come from their own tokens.
//
// Requests defer through the default policy's agent-context rule
// (context.low_confidence), as in approvals.e2e.test.ts. The last part drives
// the page itself in Debian's chromium (as webhook/console/console.browser.test.ts
// does in local mode); it is skipped when /usr/bin/chromium is missing.

import { mkdirSync, readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, type IsolatedPage, openIsolatedPage } from '../src/testkit/chromium.js';
import { gatewayUrl, ns, paths, runId } from './harness/env.js';
import { expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { AGENT, getObject, type KubectlResult, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { unsureDeployment } from './harness/objects.js';
import { tokenOf } from './harness/tokens.js';

const gateway = new Gateway();
const NS = ns.dev;
const WEBHOOK_REFUSED = /admission webhook "approvals\.belay\.dev" denied the request/;

// ---------------------------------------------------------------------------
// What the console API answers (the fields this file reads).

interface Reason {
  rule: string;
  message: string;
  severity: string;
}

interface Item {
  id: string;
  namespace: string;
  name: string;
  resourceVersion: string | null;
  phase: string;
  summary: string;
  requester: { user: string; onBehalfOf: string | null; agent: boolean };
  reasons: Reason[];
  approverGroups: string[];
  context: { workflow?: string; confidence?: number; rationale?: string };
  decision: { by: string | null; at: string | null; message: string | null; edited: boolean } | null;
  consumedAt: string | null;
  approvedNote: string;
  you: { mayDecide: boolean; why: string | null };
}

interface Detail extends Item {
  objectYaml: string | null;
}

interface List {
  version: string;
  now: string;
  mode: string;
  pending: number;
  items: Item[];
}

interface ErrorBody {
  error: { code: string; message: string };
}

interface Answer<T> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
}

interface StoredApproval {
  metadata: { name: string; namespace: string };
  spec: { requester: { user: string; onBehalfOf?: string }; approverGroups: string[] };
  status?: {
    phase?: string;
    decidedBy?: string;
    decidedAt?: string;
    message?: string;
    conditions?: { type: string; status: string; message?: string }[];
    consumption?: { requestUid: string };
  };
}

// ---------------------------------------------------------------------------
// The console API over HTTPS, trusting the gateway's dev CA.

const ca = readFileSync(path.join(paths.tls, 'ca.crt'));

interface CallOptions {
  token?: string;
  /** A whole Authorization header (overrides token). */
  authorization?: string;
  body?: unknown;
}

function consoleApi<T>(method: 'GET' | 'POST', apiPath: string, o: CallOptions = {}): Promise<Answer<T>> {
  const payload = o.body === undefined ? undefined : JSON.stringify(o.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  const authorization = o.authorization ?? (o.token !== undefined ? `Bearer ${o.token}` : undefined);
  if (authorization !== undefined) headers.authorization = authorization;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(`${gatewayUrl}/console/api/${apiPath}`, { method, ca, headers, timeout: 40_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as T });
        } catch {
          reject(new Error(`${method} /console/api/${apiPath} answered ${res.statusCode} with non-JSON: ${text.slice(0, 300)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} /console/api/${apiPath} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const list = (token: string, query = `namespace=${NS}`) => consoleApi<List>('GET', `approvals?${query}`, { token });
const show = (token: string, name: string) => consoleApi<Detail>('GET', `approvals/${NS}/${name}`, { token });
const decide = <T = Detail>(token: string, name: string, body: unknown) => consoleApi<T>('POST', `approvals/${NS}/${name}/decision`, { token, body });

// ---------------------------------------------------------------------------
// The agent's side, with the real kubectl.

const unsure = (name: string): string => unsureDeployment({ name, namespace: NS });

/** The agent creates `name`; with onBehalfOf, it names the human it acts for (impersonation extra). */
function agentCreates(name: string, onBehalfOf?: string): Promise<KubectlResult> {
  if (!onBehalfOf) return kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
  return kubectl('admin', ['--as', AGENT, '--as-user-extra', `belay.dev/on-behalf-of=${onBehalfOf}`, 'create', '-f', '-'], { stdin: unsure(name) });
}

/** The ApprovalRequest a denial points at: the last one it names. */
function approvalIn(r: KubectlResult): string {
  const m = [...r.stderr.matchAll(/ApprovalRequest ([a-z0-9-]+)\/(belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1);
  expect(m, r.stderr).toBeDefined();
  expect(m![1]).toBe(NS);
  return m![2]!;
}

/** The agent's first try: deferred, and the name of the Pending ApprovalRequest. */
async function deferredRequest(name: string, onBehalfOf?: string): Promise<string> {
  const r = await agentCreates(name, onBehalfOf);
  expectDeferred(r);
  return approvalIn(r);
}

async function stored(apr: string): Promise<StoredApproval> {
  const a = await getObject<StoredApproval>(['approvalrequest', apr], NS);
  expect(a, `approvalrequest ${apr}`).toBeDefined();
  return a!;
}

const itemOf = (l: List, apr: string) => l.items.find((i) => i.name === apr);

// ---------------------------------------------------------------------------

let alice: string;
let carol: string;
let bob: string;
let bot: string;

beforeAll(async () => {
  alice = tokenOf('alice');
  carol = tokenOf('carol');
  bob = tokenOf('bob');
  bot = tokenOf('approver-bot');
  await gateway.start();
  await installManifests();
});

afterAll(async () => {
  await gateway.stop();
});

describe('who the console lets in', () => {
  it('knows an approver by their own Kubernetes token (TokenReview) and says it is in cluster mode', async () => {
    transcriptSection('Console 1. Approvers sign in to the console with their own bearer tokens');
    const me = await consoleApi<{ user: { username: string; groups: string[] }; mode: string }>('GET', 'session', { token: alice });
    expect(me.status).toBe(200);
    expect(me.headers['cache-control']).toBe('no-store');
    expect(me.body.mode).toBe('cluster');
    expect(me.body.user.username).toBe('alice');
    expect(me.body.user.groups).toEqual(expect.arrayContaining(['belay:approvers', 'system:authenticated']));
    const them = await consoleApi<{ user: { username: string; groups: string[] } }>('GET', 'session', { token: bob });
    expect(them.body.user).toMatchObject({ username: 'bob', groups: expect.arrayContaining(['belay-e2e:developers']) });
  });

  it('answers 401 without a token, with a malformed header, and with a token the API server does not know', async () => {
    for (const o of [{}, { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` }, { token: 'f'.repeat(48) }] satisfies CallOptions[]) {
      const r = await consoleApi<ErrorBody>('GET', `approvals?namespace=${NS}`, o);
      expect(r.status, JSON.stringify(o)).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(r.body.error.code).toBe('unauthorized');
    }
    const unknown = await consoleApi<ErrorBody>('GET', 'session', { token: 'f'.repeat(48) });
    expect(unknown.body.error.message).toMatch(/bearer token is not valid/);
  });
});

describe("an agent's deferred request, decided in the console", () => {
  const name = `con-ok-${runId}`;
  let apr: string;
  let seenVersion: string;

  beforeAll(async () => {
    transcriptSection("Console 2. The agent's low-confidence create defers; alice sees and approves it in the console");
    apr = await deferredRequest(name);
  });

  it('is listed for an approver with its reasons, requester and agent context', async () => {
    const l = await list(alice);
    expect(l.status).toBe(200);
    expect(l.headers['cache-control']).toBe('no-store');
    expect(l.body.mode).toBe('cluster');
    const item = itemOf(l.body, apr);
    expect(item, `${apr} in ${JSON.stringify(l.body.items.map((i) => i.id))}`).toBeDefined();
    expect(item).toMatchObject({
      id: `${NS}/${apr}`,
      phase: 'Pending',
      summary: `CREATE Deployment ${NS}/${name}`,
      requester: { user: AGENT, onBehalfOf: null, agent: true },
      approverGroups: ['belay:approvers'],
      context: { workflow: 'scale-out-v1', confidence: 0.5, rationale: 'latency SLO burn on the checkout path' },
      decision: null,
      you: { mayDecide: true, why: null },
    });
    expect(item!.approvedNote).toMatch(/^the agent's retry of the same request is admitted once, until /);
    expect(item!.reasons.map((r) => r.rule)).toContain('context.low_confidence');
    expect(item!.reasons.find((r) => r.rule === 'context.low_confidence')!.message).toMatch(/confidence 0\.5, below the 0\.8 threshold/);
    expect(l.body.pending).toBeGreaterThanOrEqual(1);
    seenVersion = item!.resourceVersion!;
    expect(seenVersion).toMatch(/^\d+$/);

    const one = await show(alice, apr);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: `${NS}/${apr}`, phase: 'Pending', resourceVersion: seenVersion });
    expect(one.body.objectYaml).toContain(`name: ${name}`);
  });

  it('keeps the list live: a long poll answers when a new request arrives', async () => {
    const before = await list(alice);
    const started = Date.now();
    const poll = list(alice, `namespace=${NS}&since=${before.body.version}&wait=25s`);
    const other = await deferredRequest(`con-live-${runId}`);
    const after = await poll;
    expect(after.status).toBe(200);
    expect(after.body.version).not.toBe(before.body.version);
    expect(itemOf(after.body, other)?.phase).toBe('Pending');
    // Answered because the list changed, not because the wait ran out.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('is not shown to bob, who is neither an approver nor the requester (though RBAC lets him read it)', async () => {
    expectOk(await kubectl('bob', ['get', 'approvalrequest', apr, '-n', NS]));
    const l = await list(bob);
    expect(l.status).toBe(200);
    expect(itemOf(l.body, apr)).toBeUndefined();
    const one = await show(bob, apr);
    expect(one.status).toBe(404);
    const tried = await decide<ErrorBody>(bob, apr, { action: 'approve' });
    expect(tried.status).toBe(404);
    expect(tried.body.error).toMatchObject({ code: 'not_found', message: expect.stringMatching(/not yours to see/) });
    expect((await stored(apr)).status?.phase).toBe('Pending');
  });

  it("refuses an agent that holds the approver group, with the approvals webhook's reason", async () => {
    const seen = itemOf((await list(bot)).body, apr);
    expect(seen?.you).toMatchObject({ mayDecide: false, why: expect.stringMatching(/agent identity/) });
    const tried = await decide<ErrorBody>(bot, apr, { action: 'approve' });
    expect(tried.status).toBe(403);
    expect(tried.body.error.code).toBe('forbidden');
    expect(tried.body.error.message).toMatch(WEBHOOK_REFUSED);
    expect(tried.body.error.message).toMatch(/approver-bot is an agent identity, and agents may not approve or reject requests/);
    expect((await stored(apr)).status?.phase).toBe('Pending');
  });

  it('refuses a decision without a token, and bad input, changing nothing', async () => {
    const anonymous = await consoleApi<ErrorBody>('POST', `approvals/${NS}/${apr}/decision`, { body: { action: 'approve' } });
    expect(anonymous.status).toBe(401);
    const bad = await decide<ErrorBody>(alice, apr, { action: 'approve', phase: 'Approved' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/unknown field "phase"/);
    expect((await stored(apr)).status?.phase).toBe('Pending');
  });

  it('is approved by alice with her own token: the API server records her as the decider', async () => {
    const r = await decide(alice, apr, { action: 'approve', message: 'capacity is there', resourceVersion: seenVersion });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ phase: 'Approved', decision: { by: 'alice', message: 'capacity is there', edited: false } });
    const a = await stored(apr);
    expect(a.status).toMatchObject({ phase: 'Approved', decidedBy: 'alice', message: 'capacity is there' });
    expect(Math.abs(Date.parse(a.status!.decidedAt!) - Date.now())).toBeLessThan(60_000);
    // The mutating approvals webhook's stamp: it sets this from the authenticated caller.
    expect(a.status!.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Decided', status: 'True', message: 'approved by alice' })]));
  });

  it('keeps the decision final for everyone else', async () => {
    const flip = await decide<ErrorBody>(carol, apr, { action: 'reject', message: 'changed my mind' });
    expect(flip.status).toBe(409);
    expect(flip.body.error.message).toMatch(/already Approved \(decided by alice/);
    expect((await stored(apr)).status).toMatchObject({ phase: 'Approved', decidedBy: 'alice' });
  });

  it("admits the agent's retry once, then the approval reads Consumed", async () => {
    transcriptSection("Console 3. The agent retries after alice's approval in the console: admitted once");
    expectOk(await agentCreates(name), new RegExp(`deployment.apps/${name} created`));
    expect(await getObject(['deployment', name], NS)).toBeDefined();
    const a = await stored(apr);
    expect(a.status?.phase).toBe('Consumed');
    expect(a.status?.consumption?.requestUid).toMatch(/^[0-9a-f-]{36}$/);
    const shown = itemOf((await list(alice)).body, apr);
    expect(shown).toMatchObject({ phase: 'Consumed', decision: { by: 'alice' }, you: { mayDecide: false } });
    expect(shown!.consumedAt).not.toBeNull();

    // The same create again is a new request: the approval was used.
    const again = await agentCreates(name);
    expectDeferred(again);
    expect(again.stderr).toMatch(/already used once/);
    expect(approvalIn(again)).toBe(`${apr}-2`);
  });
});

describe('the human an agent acts for', () => {
  const name = `con-obo-${runId}`;
  let apr: string;

  beforeAll(async () => {
    transcriptSection('Console 4. The agent acts on behalf of bob; bob sees the request but may not approve it');
    apr = await deferredRequest(name, 'bob');
  });

  it('sees the request, and approving it is refused by the approvals webhook with its reason', async () => {
    expect((await stored(apr)).spec.requester).toMatchObject({ user: AGENT, onBehalfOf: 'bob' });
    const seen = itemOf((await list(bob)).body, apr);
    expect(seen).toMatchObject({ phase: 'Pending', requester: { onBehalfOf: 'bob' }, you: { mayDecide: false } });
    const tried = await decide<ErrorBody>(bob, apr, { action: 'approve', message: 'looks fine to me' });
    expect(tried.status).toBe(403);
    expect(tried.body.error.code).toBe('forbidden');
    expect(tried.body.error.message).toMatch(WEBHOOK_REFUSED);
    expect(tried.body.error.message).toMatch(new RegExp(`${AGENT} made this request on behalf of bob, who may not decide it`));
    const a = await stored(apr);
    expect(a.status?.phase).toBe('Pending');
    expect(a.status?.decidedBy).toBeUndefined();
    // And the agent's retry is still deferred.
    expectDeferred(await agentCreates(name, 'bob'));
  });
});

describe('a rejection in the console', () => {
  const name = `con-rej-${runId}`;
  const why = 'not during the freeze: wait for the 14:00 window';
  let apr: string;

  beforeAll(async () => {
    transcriptSection("Console 5. carol rejects in the console with a message; the agent's retries carry it");
    apr = await deferredRequest(name);
  });

  it('needs a message and the version the approver saw', async () => {
    const silent = await decide<ErrorBody>(carol, apr, { action: 'reject' });
    expect(silent.status).toBe(400);
    expect(silent.body.error.message).toMatch(/a rejection needs a "message"/);
    const stale = await decide<ErrorBody>(carol, apr, { action: 'reject', message: why, resourceVersion: '1' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/changed since you looked at it/);
    expect((await stored(apr)).status?.phase).toBe('Pending');
  });

  it("stays refused with the approver's message on every retry", async () => {
    const rv = (await show(carol, apr)).body.resourceVersion!;
    const r = await decide(carol, apr, { action: 'reject', message: why, resourceVersion: rv });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ phase: 'Rejected', decision: { by: 'carol', message: why } });
    expect((await stored(apr)).status).toMatchObject({ phase: 'Rejected', decidedBy: 'carol', message: why });
    for (let i = 0; i < 2; i++) {
      const retry = await agentCreates(name);
      expect(retry.code).not.toBe(0);
      expect(retry.stderr).toMatch(new RegExp(`rejected by carol: ${why}`));
    }
    expect(await getObject(['deployment', name], NS)).toBeUndefined();
    expect(itemOf((await list(alice)).body, apr)).toMatchObject({ phase: 'Rejected', decision: { by: 'carol', message: why } });
  });
});

if (!HAVE_CHROMIUM) console.warn(`console.e2e.test.ts: the browser part is skipped: ${CHROMIUM} is not installed (make console-deps)`);

describe.skipIf(!HAVE_CHROMIUM)('the console page in chromium, on the real control plane', () => {
  const approveName = `con-web-${runId}`;
  const oboName = `con-web-obo-${runId}`;
  let approveId: string;
  let oboId: string;
  let browser: IsolatedPage;
  let page: Page;

  beforeAll(async () => {
    transcriptSection('Console 6. In chromium: alice approves on the page; bob, on whose behalf the agent acted, is refused on the page');
    approveId = `${NS}/${await deferredRequest(approveName)}`;
    oboId = `${NS}/${await deferredRequest(oboName, 'bob')}`;
    mkdirSync(paths.out, { recursive: true });
    browser = await openIsolatedPage(new URL(gatewayUrl).origin);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const item = (id: string) => page.locator(`.item[data-id="${id}"]`);
  const button = (name: string) => page.locator('.actions').getByRole('button', { name, exact: true });

  async function signIn(token: string, who: string): Promise<void> {
    await page.goto(`${gatewayUrl}/console/`);
    const signout = page.locator('#signout');
    // A token kept in the tab signs in by itself, a moment after the page loads: wait for either screen.
    await expect.poll(async () => (await signout.isVisible()) || (await page.locator('#login').isVisible())).toBe(true);
    if (await signout.isVisible()) await signout.click();
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#whoami').textContent()).toContain(who);
  }

  it("alice signs in with her token, sees the request with its rule, approves it; the agent's retry is admitted", async () => {
    await signIn(alice, 'alice');
    expect(await page.locator('#whoami').textContent()).toMatch(/alice \(belay:approvers, system:authenticated\) · cluster/);
    await expect.poll(() => item(approveId).textContent(), { timeout: 15_000 }).toContain('context.low_confidence');
    await item(approveId).click();
    const detail = page.locator('#detail');
    await expect.poll(() => detail.locator('h2').textContent()).toBe(`CREATE Deployment ${NS}/${approveName}`);
    expect(await detail.textContent()).toContain(AGENT);
    await page.screenshot({ path: path.join(paths.out, 'console-cluster-pending.png'), fullPage: true });
    await page.locator('#message').fill('approved on the page');
    await button('Approve').click();
    await expect.poll(() => detail.locator('.notice').textContent()).toMatch(/^Approved: the agent's retry of the same request is admitted once, until /);
    expect(await detail.textContent()).toContain('approved by alice');
    const a = await stored(approveId.split('/')[1]!);
    expect(a.status).toMatchObject({ phase: 'Approved', decidedBy: 'alice', message: 'approved on the page' });

    expectOk(await agentCreates(approveName), new RegExp(`deployment.apps/${approveName} created`));
    await expect.poll(() => item(approveId).locator('.phase').textContent(), { timeout: 15_000 }).toBe('Consumed');
  }, 60_000);

  it("bob, on whose behalf the agent acted, is warned, and his approval is refused with the webhook's reason", async () => {
    await signIn(bob, 'bob');
    await expect.poll(() => item(oboId).count(), { timeout: 15_000 }).toBe(1);
    // Not his to see: the request that is not on his behalf.
    expect(await item(approveId).count()).toBe(0);
    await item(oboId).click();
    await expect.poll(() => page.locator('.actions .warning').textContent()).toMatch(/on behalf of bob, who may not decide it/);
    await button('Approve').click();
    await expect
      .poll(() => page.locator('.actions .error').textContent())
      .toMatch(/^Refused: .*admission webhook "approvals\.belay\.dev" denied the request: .* on behalf of bob, who may not decide it/);
    expect(await page.locator('#detail .title .phase').textContent()).toBe('Pending');
    await page.screenshot({ path: path.join(paths.out, 'console-cluster-refused.png'), fullPage: true });
    expect((await stored(oboId.split('/')[1]!)).status?.phase).toBe('Pending');
  }, 60_000);

  it('loaded nothing from elsewhere and broke no policy', () => {
    expect(browser.foreign).toEqual([]);
    expect(browser.problems).toEqual([]);
  });
});
