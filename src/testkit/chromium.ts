// Test support: Debian's chromium driven by playwright-core, the way every
// browser test here uses it: a fresh profile, the launch flags this machine
// needs, nothing allowed but the page's own origin, and page errors collected.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

/** Without the background-networking flags chromium keeps reaching for Google's hosts, which this network refuses. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface IsolatedPage {
  context: BrowserContext;
  page: Page;
  /** Requests to any other origin, blocked. */
  foreign: string[];
  /** Page errors, unexpected console errors, CSP violations. */
  problems: string[];
  close(): Promise<void>;
}

/** Opens a page that may only talk to `origin` (an https gateway with the dev CA, hence ignoreHTTPSErrors). */
export async function openIsolatedPage(origin: string): Promise<IsolatedPage> {
  const profile = mkdtempSync(path.join(tmpdir(), 'belay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ARGS,
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1400, height: 1000 },
  });
  const foreign: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (m) => {
    // Refusals the page shows to the user are expected; anything else is a bug.
    if (m.type() === 'error' && !/401|403|409|400|Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
    if (/Content Security Policy/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  return {
    context,
    page,
    foreign,
    problems,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
