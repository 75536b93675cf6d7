// Test support: the express app with the authorization and agent API
// routers over plain HTTP on 127.0.0.1, serving the policy in ./policy.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentApiRoutes } from '../../webhook/agent/index.js';
import { createApp } from '../../webhook/app.js';
import { authorizationRoutes } from '../../webhook/authorization/index.js';
import { staticTokens } from '../auth/static.js';
import { PolicyStore } from '../bundle/active.js';
import { parseBundle } from '../bundle/bundle.js';
import { entrypointOf, FACES } from '../contract/index.js';
import { NO_AGENTS } from '../identity/agents.js';
import { namesOnly } from '../namespaces/directory.js';
import type { DecisionRecord, DecisionSink } from '../observe/decisions.js';
import { silentLogger } from '../observe/log.js';
import { Metrics } from '../observe/metrics.js';
import { FakeApprovals } from './fake-approvals.js';
import { buildBundle } from './opa-bundle.js';

export const POLICY_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'policies', 'agent');

export const TOKENS = {
  agent: 'agent-token-0123456789abcdef',
  other: 'other-agent-token-0123456789',
  approver: 'approver-token-0123456789ab',
  human: 'human-token-0123456789abcdef',
} as const;

export const AGENT = 'system:serviceaccount:agents:remediator';

export interface Harness {
  url: string;
  store: PolicyStore;
  approvals: FakeApprovals;
  decisions: DecisionRecord[];
  metrics: Metrics;
  close(): Promise<void>;
  /** Re-activates the test policy with `config` merged into data.belay.config. */
  useData(config: Record<string, unknown>): Promise<void>;
}

export interface HarnessOptions {
  /** The gateway's time budget for scanning one prompt or tool result. */
  scanTimeoutMs?: number;
}

export async function startHarness(policyDir: string = POLICY_DIR, options: HarnessOptions = {}): Promise<Harness> {
  const store = new PolicyStore();
  const bundleBytes = buildBundle(policyDir, { entrypoints: FACES.map((f) => entrypointOf(f)) });
  const base = await parseBundle(bundleBytes);
  await store.activate(base, 'test');
  const approvals = new FakeApprovals();
  const decisions: DecisionRecord[] = [];
  const sink: DecisionSink = { record: (e) => decisions.push(e), close: async () => {} };
  const metrics = new Metrics({ defaultMetrics: false });
  const authenticator = staticTokens([
    { token: TOKENS.agent, username: AGENT, groups: ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'] },
    { token: TOKENS.other, username: 'system:serviceaccount:agents:other', groups: ['system:serviceaccounts'] },
    { token: TOKENS.approver, username: 'alice', groups: ['belay:approvers'] },
    { token: TOKENS.human, username: 'bob', groups: ['developers'] },
  ]);
  const app = createApp(
    {
      store,
      approvals,
      approvalStore: approvals,
      namespaces: namesOnly,
      agents: () => store.current()?.agents ?? NO_AGENTS,
      instruments: { metrics, log: silentLogger, decisions: sink },
      bodyLimit: 256 * 1024,
      agentTokens: authenticator,
      console: {},
      polling: { intervalMs: 20, maxWaitMs: 3_000 },
      ...(options.scanTimeoutMs !== undefined ? { scanTimeoutMs: options.scanTimeoutMs } : {}),
    },
    [authorizationRoutes, agentApiRoutes],
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    approvals,
    decisions,
    metrics,
    async useData(config) {
      const data = structuredClone(base.data) as { belay: { config: Record<string, unknown> } };
      Object.assign(data.belay.config, config);
      await store.activate({ ...base, data }, 'test-override');
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
}

export async function call(
  h: Harness,
  method: string,
  pathname: string,
  options: { token?: string; body?: unknown; raw?: string; contentType?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.raw !== undefined) body = options.raw;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const res = await fetch(`${h.url}${pathname}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, headers: res.headers };
}
