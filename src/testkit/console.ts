// Test support for the console: a real gateway in local mode (HTTPS, the
// gateway tests' policy in src/testkit/policies/admission, a local approval store in a
// temp dir, approver tokens from a file), AdmissionReviews that defer, and
// small HTTPS clients for the webhook and the console API.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Gateway, type GatewayOptions, startGateway } from '../../webhook/gateway.js';
import type { JsonObject } from '../contract/index.js';
import type { DecisionRecord, DecisionSink } from '../observe/decisions.js';
import { silentLogger } from '../observe/log.js';
import { buildBundle, TEST_POLICY_DIR } from './opa-bundle.js';

/** Approver-file tokens; dana is the human the agent acts for, carol no approver, the bot an agent. */
export const TOKENS = {
  alice: 'alice-approver-token-0123456789',
  bob: 'bob-approver-token-0123456789ab',
  dana: 'dana-approver-token-0123456789a',
  carol: 'carol-developer-token-012345678',
  bot: 'bot-agent-token-0123456789abcdef',
} as const;

/** The agent API token of the agent (its --agent-token-file). */
export const AGENT_TOKEN = 'bot-gate-api-token-0123456789ab';

const CONSOLE_POLICY_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'policies', 'console');

export const AGENT = {
  username: 'system:serviceaccount:agents:bot',
  uid: 'u-bot',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:agents', 'system:authenticated'],
};

export interface ConsoleFixture {
  gateway: Gateway;
  url: string;
  ca: Buffer;
  dir: string;
  decisions: DecisionRecord[];
  close(): Promise<void>;
}

export interface ConsoleGatewayOptions {
  /** More of data.belay.config for the bundle (notification routes). */
  config?: JsonObject;
  /** Gateway settings over the fixture's (a notifications file, the webhook clients). */
  gateway?: Partial<GatewayOptions>;
  /** Keep the state (and TLS) in this directory, so a second gateway takes over where the first stopped. */
  dir?: string;
}

export async function startConsoleGateway(options: ConsoleGatewayOptions = {}): Promise<ConsoleFixture> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'belay-console-'));
  const bundlePath = path.join(dir, 'bundle.tar.gz');
  // The gateway tests' admission policy plus a tool-call face of our own.
  const policy = path.join(dir, 'policy');
  cpSync(TEST_POLICY_DIR, policy, { recursive: true });
  cpSync(CONSOLE_POLICY_DIR, policy, { recursive: true });
  if (options.config) {
    const data = JSON.parse(readFileSync(path.join(policy, 'data.json'), 'utf8'));
    data.belay.config = { ...data.belay.config, ...options.config };
    writeFileSync(path.join(policy, 'data.json'), JSON.stringify(data));
  }
  writeFileSync(bundlePath, buildBundle(policy, { revision: 'console-rev', entrypoints: ['belay/admission/decision', 'belay/toolcall/decision'] }));
  const agentTokenFile = path.join(dir, 'agents.yaml');
  writeFileSync(agentTokenFile, `- {token: ${AGENT_TOKEN}, username: "${AGENT.username}", groups: ${JSON.stringify(AGENT.groups)}}\n`);
  const tokenFile = path.join(dir, 'approvers.yaml');
  writeFileSync(
    tokenFile,
    [
      'tokens:',
      `  - {token: ${TOKENS.alice}, username: alice, groups: ["belay:approvers"]}`,
      `  - {token: ${TOKENS.bob}, username: bob, groups: ["belay:approvers", "sre"]}`,
      `  - {token: ${TOKENS.dana}, username: dana, groups: ["belay:approvers"]}`,
      `  - {token: ${TOKENS.carol}, username: carol, groups: ["developers"]}`,
      `  - {token: ${TOKENS.bot}, username: "${AGENT.username}", groups: ["belay:approvers", "system:serviceaccounts:agents"]}`,
      '',
    ].join('\n'),
  );
  const decisions: DecisionRecord[] = [];
  const sink: DecisionSink = { record: (r) => void decisions.push(r), close: async () => {} };
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundlePath },
    tlsDir: path.join(dir, 'tls'),
    log: silentLogger,
    decisions: sink,
    evaluation: { mode: 'in-process' },
    approvals: { stateDir: path.join(dir, 'state'), gatewayUser: 'belay-gateway' },
    console: { approverTokenFile: tokenFile },
    agentApi: { tokenFile: agentTokenFile },
    ...options.gateway,
  });
  return {
    gateway,
    url: gateway.url,
    ca: readFileSync(gateway.caFile),
    dir,
    decisions,
    async close() {
      await gateway.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReviewOptions {
  name?: string;
  namespace?: string;
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  onBehalfOf?: string;
  operation?: 'CREATE' | 'UPDATE';
  /** UPDATE: the live object the write replaces. */
  oldObject?: unknown;
}

/** An agent's Deployment write; the label test/decision=defer makes the test policy defer it. */
export function deferringReview(uid: string, o: ReviewOptions = {}) {
  const name = o.name ?? 'web';
  const namespace = o.namespace ?? 'team-a';
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { 'test/decision': 'defer', ...(o.labels ?? {}) }, ...(o.annotations ? { annotations: o.annotations } : {}) },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
    },
  };
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      name,
      namespace,
      operation: o.operation ?? 'CREATE',
      userInfo: { ...AGENT, ...(o.onBehalfOf ? { extra: { 'belay.dev/on-behalf-of': [o.onBehalfOf] } } : {}) },
      object,
      oldObject: o.oldObject ?? null,
      dryRun: false,
    },
  };
}

/** The same review with the object replaced (after the API server applied a mutating patch). */
export function withObject(review: ReturnType<typeof deferringReview>, uid: string, object: unknown) {
  return { ...review, request: { ...review.request, uid, object } };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** A request to a gateway over HTTPS (its URL and CA); `raw` is sent as it is (bytes that are not UTF-8 included). */
export function request(
  f: Pick<ConsoleFixture, 'url' | 'ca'>,
  method: string,
  pathname: string,
  o: {
    token?: string;
    body?: unknown;
    raw?: string | Buffer;
    contentType?: string;
    headers?: Record<string, string>;
    /** A client certificate to present (the API server's, for the webhook faces). */
    client?: { cert: Buffer; key: Buffer };
  } = {},
): Promise<Reply> {
  const text = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  const headers: Record<string, string> = { ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  if (text !== undefined) headers['content-type'] ??= o.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(pathname, f.url), { method, ca: f.ca, headers, ...(o.client ?? {}), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: body, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Sends an AdmissionReview to /validate or /mutate and returns its response. */
export async function admit(
  f: ConsoleFixture,
  stage: 'validate' | 'mutate',
  review: unknown,
): Promise<{ uid: string; allowed: boolean; status?: { code: number; message: string }; patch?: string }> {
  const r = await request(f, 'POST', `/${stage}`, { body: review });
  if (r.status !== 200) throw new Error(`/${stage} answered ${r.status}: ${r.text}`);
  return r.body.response;
}
