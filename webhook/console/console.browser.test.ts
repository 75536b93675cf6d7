// The approvals console in a real browser (Debian's chromium, driven by
// playwright-core; nothing is downloaded) against a gateway in local mode:
// an agent's request defers, an approver signs in, sees it with its reasons,
// approves it and the agent's retry is admitted; a rejection with a message,
// an edit, and a self-approval refused with belay's reason on screen. Hostile
// strings from the request must render as text. Screenshots go to
// .build/console/ for a human to look at.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, type IsolatedPage, openIsolatedPage } from '../../src/testkit/chromium.js';
import { AGENT_TOKEN, admit, type ConsoleFixture, deferringReview, request, startConsoleGateway, TOKENS, withObject } from '../../src/testkit/console.js';

if (!HAVE_CHROMIUM) {
  console.warn(`console.browser.test.ts skipped: ${CHROMIUM} is not installed (apt-get install -y chromium, or make console-deps)`);
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHOTS = path.join(ROOT, '.build/console');
const HOSTILE = '<img src=x onerror="window.__pwned=1"></dd><script>window.__pwned=2</script>';
const HOSTILE_WORKFLOW = '"><svg onload="window.__pwned=3">';

describe.skipIf(!HAVE_CHROMIUM)('approvals console in chromium', () => {
  let f: ConsoleFixture;
  let browser: IsolatedPage;
  let page: Page;

  beforeAll(async () => {
    f = await startConsoleGateway();
    mkdirSync(SHOTS, { recursive: true });
    // Nothing but the gateway: any other request is blocked and recorded.
    browser = await openIsolatedPage(new URL(f.url).origin);
    page = browser.page;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  async function defer(uid: string, o: Parameters<typeof deferringReview>[1]) {
    const review = deferringReview(uid, o);
    const answer = await admit(f, 'validate', review);
    expect(answer.allowed).toBe(false);
    const id = /ApprovalRequest ([a-z0-9-]+\/belay-[0-9a-f]+(?:-\d+)?) is Pending/.exec(answer.status?.message ?? '')![1]!;
    return { id, review };
  }

  async function signIn(token: string, who: string) {
    await page.goto(`${f.url}/console/`);
    const signout = page.locator('#signout');
    // A token kept in the tab signs in by itself, a moment after the page loads: wait for either screen.
    await expect.poll(async () => (await signout.isVisible()) || (await page.locator('#login').isVisible())).toBe(true);
    if (await signout.isVisible()) await signout.click();
    await page.locator('#token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#whoami').textContent()).toContain(who);
  }

  const item = (id: string) => page.locator(`.item[data-id="${id}"]`);
  const button = (name: string) => page.locator('.actions').getByRole('button', { name, exact: true });

  it('asks for a token, refuses a bad one, and keeps a good one in sessionStorage only', async () => {
    await page.goto(`${f.url}/console/`);
    await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
    await page.locator('#token').fill('not-a-valid-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('#login-error').textContent()).toMatch(/That token was not accepted: the bearer token is not valid/);

    await signIn(TOKENS.alice, 'alice');
    expect(
      await page.evaluate(() => {
        // Runs in the page: the browser's globals, typed for the checker only (the tests compile without the DOM library).
        const page = globalThis as unknown as {
          sessionStorage: { getItem(k: string): string | null };
          localStorage: { length: number };
          document: { cookie: string };
        };
        return { session: page.sessionStorage.getItem('belay.console.token'), local: page.localStorage.length, cookie: page.document.cookie };
      }),
    ).toEqual({ session: 'alice-approver-token-0123456789', local: 0, cookie: '' });
    await page.reload();
    await expect.poll(() => page.locator('#whoami').textContent()).toContain('alice');
  }, 60_000);

  it("shows a deferred request with its reasons, context and fix; approving it admits the agent's retry once", async () => {
    const { id, review } = await defer('b-approve-1', {
      name: 'checkout',
      labels: { 'test/fix': 'yes' },
      onBehalfOf: 'dana',
      annotations: {
        'belay.dev/workflow': HOSTILE_WORKFLOW,
        'belay.dev/confidence': '0.62',
        'belay.dev/rationale': HOSTILE,
        'belay.dev/cluster': 'prod-billing-eu1',
      },
    });
    // Listed live (the page is already open), with the first reason's rule id.
    await expect.poll(() => item(id).textContent(), { timeout: 10_000 }).toContain('test.defer');
    expect(await item(id).textContent()).toContain('CREATE Deployment team-a/checkout');
    expect(await item(id).textContent()).toContain('prod-billing-eu1');
    await item(id).click();

    const detail = page.locator('#detail');
    await expect.poll(() => detail.locator('h2').textContent()).toBe('CREATE Deployment team-a/checkout');
    const text = (await detail.textContent()) ?? '';
    expect(text).toContain('this change needs a human');
    expect(text).toContain('test.defer');
    expect(text).toContain('system:serviceaccount:agents:bot');
    expect(text).toContain('dana');
    expect(text).toContain('62%');
    expect(text).toMatch(/expires in 1[45]m/);
    // Hostile strings are text, not markup.
    expect(await detail.locator('.rationale').textContent()).toBe(HOSTILE);
    expect(text).toContain(HOSTILE_WORKFLOW);
    expect(await page.locator('#detail img, #detail svg, #detail script, .items img, .items svg').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    // The proposed fix as a diff.
    expect(await detail.locator('pre.diff .add').allTextContents()).toContain('+    fixed: "true"\n');

    await page.screenshot({ path: path.join(SHOTS, 'console-pending.png'), fullPage: true });

    await button('Approve').click();
    await expect.poll(() => detail.locator('.notice').textContent()).toMatch(/^Approved: the agent's retry of the same request is admitted once, until /);
    expect(await detail.locator('.title .phase').textContent()).toBe('Approved');
    expect(await detail.textContent()).toContain('approved by alice');

    expect((await admit(f, 'validate', withObject(review, 'b-approve-2', review.request.object))).allowed).toBe(true);
    await expect.poll(() => item(id).locator('.phase').textContent(), { timeout: 10_000 }).toBe('Consumed');
  }, 60_000);

  it("rejects with a message, which the agent's retry carries", async () => {
    const { id, review } = await defer('b-reject-1', { name: 'cleanup', annotations: { 'belay.dev/cluster': 'prod-billing' } });
    await expect.poll(() => item(id).count(), { timeout: 10_000 }).toBe(1);
    await item(id).click();
    await expect.poll(() => page.locator('#detail h2').textContent()).toBe('CREATE Deployment team-a/cleanup');
    await button('Reject').click();
    await expect.poll(() => page.locator('.actions .error').textContent()).toMatch(/a rejection needs a message/);
    await page.locator('#message').fill('wrong cluster: this is prod-billing');
    await button('Reject').click();
    await expect.poll(() => page.locator('#detail .notice').textContent()).toMatch(/^Rejected\./);
    const retry = await admit(f, 'validate', withObject(review, 'b-reject-2', review.request.object));
    expect(retry.allowed).toBe(false);
    expect(retry.status?.message).toMatch(/rejected by alice: wrong cluster: this is prod-billing/);
  }, 60_000);

  it("edits the object; the agent's retry gets the edit as a patch", async () => {
    const { id, review } = await defer('b-edit-1', { name: 'scale', replicas: 5 });
    await expect.poll(() => item(id).count(), { timeout: 10_000 }).toBe(1);
    await item(id).click();
    await expect.poll(() => page.locator('#detail h2').textContent()).toBe('CREATE Deployment team-a/scale');
    await button('Edit…').click();
    const area = page.locator('#edit-text');
    const yaml = await area.inputValue();
    expect(yaml).toContain('replicas: 5');
    await area.fill(yaml.replace('replicas: 5', 'replicas: 2'));
    await page.locator('.actions').getByRole('button', { name: 'Approve with this edit' }).click();
    await expect
      .poll(() => page.locator('#detail .notice').textContent())
      .toMatch(/^Approved with an edit: the agent's retry of the same request is admitted once/);
    expect(await page.locator('#detail pre.diff .add').allTextContents()).toContain('+  replicas: 2\n');

    const mutate = await admit(f, 'mutate', withObject(review, 'b-edit-2', review.request.object));
    expect(mutate.allowed).toBe(true);
    expect(JSON.parse(Buffer.from(mutate.patch!, 'base64').toString())).toEqual([{ op: 'replace', path: '/spec/replicas', value: 2 }]);
  }, 60_000);

  it("edits a tool call's arguments (use case 1: the wrong cluster); the agent runs the edited call", async () => {
    const call = {
      tool: { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web' } },
      target: { verb: 'delete', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'test-web', cluster: 'prod-billing' },
      requestId: 'b-tool-1',
    };
    const first = await request(f, 'POST', '/v1/tool-calls:evaluate', { token: AGENT_TOKEN, body: call });
    const id = first.body.approval.id as string;
    await expect.poll(() => item(id).count(), { timeout: 10_000 }).toBe(1);
    expect(await item(id).textContent()).toContain('prod-billing');
    await item(id).click();
    await expect.poll(() => page.locator('#detail h2').textContent()).toMatch(/^tool resources_delete/);
    expect(await page.locator('#detail').textContent()).toContain('Target clusterprod-billing');
    await button('Edit…').click();
    const area = page.locator('#edit-text');
    expect(JSON.parse(await area.inputValue())).toEqual(call.tool.arguments);
    await area.fill(JSON.stringify({ ...call.tool.arguments, namespace: 'staging' }, null, 2));
    await page.locator('.actions').getByRole('button', { name: 'Approve with this edit' }).click();
    await expect
      .poll(() => page.locator('#detail .notice').textContent())
      .toMatch(/^Approved with an edit: the agent's retry of the same tool call is allowed once/);
    const retry = await request(f, 'POST', '/v1/tool-calls:evaluate', { token: AGENT_TOKEN, body: call });
    expect(retry.body).toMatchObject({ decision: 'allow', edited: true, tool: { arguments: { namespace: 'staging' } } });
  }, 60_000);

  it("shows an UPDATE's change against the live object, and the policy revision and digest that asked", async () => {
    await signIn(TOKENS.alice, 'alice');
    const live = deferringReview('b-upd-0', { name: 'billing', replicas: 2 }).request.object;
    const { id } = await defer('b-upd-1', { name: 'billing', replicas: 6, operation: 'UPDATE', oldObject: live });
    await expect.poll(() => item(id).count(), { timeout: 10_000 }).toBe(1);
    await item(id).click();
    await expect.poll(() => page.locator('#detail h2').textContent()).toBe('UPDATE Deployment team-a/billing');
    const change = page.locator('#detail section.block', { hasText: 'Change against the live object' });
    expect(await change.locator('pre.diff .remove').allTextContents()).toEqual(['-  replicas: 2\n']);
    expect(await change.locator('pre.diff .add').allTextContents()).toEqual(['+  replicas: 6\n']);
    const policy = page.locator('#detail section.block', { hasText: 'Policy that asked' });
    expect(await policy.locator('code.revision').textContent()).toBe('console-rev');
    expect(await policy.locator('code.digest').textContent()).toMatch(/^[0-9a-f]{64}$/);
    expect(await policy.locator('code.digest').textContent()).toBe((await request(f, 'GET', '/readyz')).body.digest);
    await page.screenshot({ path: path.join(SHOTS, 'console-update-diff.png'), fullPage: true });
  }, 60_000);

  it('approves all pending requests of one workflow run at once, each judged on its own', async () => {
    const run = { 'belay.dev/workflow': 'rollout-plan-v2', 'belay.dev/workflow-run': 'run-42' };
    const ids: string[] = [];
    for (const [i, name] of ['plan-db', 'plan-api', 'plan-web'].entries()) ids.push((await defer(`b-run-${i}`, { name, annotations: run })).id);
    const other = (await defer('b-run-other', { name: 'plan-other', annotations: { ...run, 'belay.dev/workflow-run': 'run-43' } })).id;
    await expect.poll(() => item(ids[2]!).count(), { timeout: 10_000 }).toBe(1);
    await item(ids[1]!).click();
    await expect.poll(() => page.locator('#detail h2').textContent()).toBe('CREATE Deployment team-a/plan-api');
    const panel = page.locator('.actions .run');
    await expect.poll(() => panel.locator('h4').textContent()).toBe('Workflow rollout-plan-v2 · run run-42: 3 pending requests');
    expect(
      await panel.locator('.run-items li').evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { id: string } }).dataset.id).sort()),
    ).toEqual([...ids].sort());
    await page.screenshot({ path: path.join(SHOTS, 'console-workflow-run.png'), fullPage: true });
    await panel.getByRole('button', { name: 'Approve all 3' }).click();
    await expect.poll(() => panel.locator('.run-results .run-done').textContent()).toBe('3 of 3 approved.');
    for (const id of ids) await expect.poll(() => item(id).locator('.phase').textContent(), { timeout: 10_000 }).toBe('Approved');
    expect(await item(other).locator('.phase').textContent()).toBe('Pending');
    for (const id of ids)
      expect((await request(f, 'GET', `/console/api/approvals/${id}`, { token: TOKENS.alice })).body.decision).toMatchObject({ by: 'alice' });
  }, 60_000);

  it("refuses self-approval and shows belay's reason", async () => {
    const { id } = await defer('b-self-1', { name: 'self', onBehalfOf: 'dana' });
    await signIn(TOKENS.dana, 'dana');
    await expect.poll(() => item(id).count(), { timeout: 10_000 }).toBe(1);
    await item(id).click();
    await expect.poll(() => page.locator('.actions .warning').textContent()).toMatch(/on behalf of dana, who may not decide it/);
    await button('Approve').click();
    await expect
      .poll(() => page.locator('.actions .error').textContent())
      .toMatch(/^Refused: system:serviceaccount:agents:bot made this request on behalf of dana, who may not decide it; another member of belay:approvers must/);
    expect(await page.locator('#detail .title .phase').textContent()).toBe('Pending');
    await page.screenshot({ path: path.join(SHOTS, 'console-refused.png'), fullPage: true });
  }, 60_000);

  it('loaded nothing from elsewhere and broke no policy', () => {
    expect(browser.foreign).toEqual([]);
    expect(browser.problems).toEqual([]);
  });
});
