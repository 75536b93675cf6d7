// Test support: the HTTP fuzz run. A real gateway (a child process started
// from source, local mode, the default policies) is sent a stream of
// requests to every face — well-formed ones, the same with a field replaced
// by anything, garbage, hostile bodies, compressions, missing or wrong
// tokens — and every answer is checked against what must hold whatever was
// sent: never a 5xx, never an allow that could only be wrong (an agent's
// privileged Pod, a Secret read granted, an agent API call without a valid
// token or a production delete without an approval, an agent deciding an
// approval). Reports what it sent, the answers by status, the wrong allows
// and the gateway's peak RSS.
//
// Used by webhook/fuzz.test.ts (a few thousand requests, in `make test`) and
// `make fuzz` (src/testkit/fuzz/run.ts, longer).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { entrypointOf, FACES } from '../../contract/index.js';
import { buildBundle } from '../opa-bundle.js';
import { AGENT_USER, admissionReview, anyJson, HUMAN_USER, mutate, reviewPath, sarPath, subjectAccessReview, toolCallBody } from './arbitraries.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const FUZZ_TOKENS = {
  agent: 'fuzz-agent-token-0123456789abcdef',
  approver: 'fuzz-approver-token-0123456789ab',
  agentApprover: 'fuzz-agent-approver-token-01234567',
} as const;

export interface FuzzGateway {
  readonly url: string;
  readonly ca: Buffer;
  readonly pid: number;
  /** Peak resident set of the gateway process so far (VmHWM), MiB. */
  peakRssMiB(): number;
  /** What the gateway wrote to stderr (its log), for a failure's report. */
  output(): string;
  close(): Promise<void>;
}

/**
 * Starts a gateway in a child process — from source, or the compiled one in
 * dist/ (`compiled`: what is deployed, so its memory is what counts) — in
 * local mode, with the default policies and tokens for the agent API and console.
 */
export async function startFuzzGateway({ compiled = false, extraArgs = [] }: { compiled?: boolean; extraArgs?: string[] } = {}): Promise<FuzzGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-fuzz-'));
  const bundle = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundle, buildBundle(path.join(root, 'policies'), { revision: 'fuzz', entrypoints: FACES.map(entrypointOf) }));
  const agents = path.join(dir, 'agents.yaml');
  writeFileSync(agents, `- {token: ${FUZZ_TOKENS.agent}, username: "${AGENT_USER.username}", groups: ${JSON.stringify(AGENT_USER.groups)}}\n`);
  const approvers = path.join(dir, 'approvers.yaml');
  writeFileSync(
    approvers,
    [
      `- {token: ${FUZZ_TOKENS.approver}, username: alice, groups: ["belay:approvers"]}`,
      `- {token: ${FUZZ_TOKENS.agentApprover}, username: "${AGENT_USER.username}", groups: ["belay:approvers"]}`,
      '',
    ].join('\n'),
  );
  const args = [
    ...(compiled ? [path.join(root, 'dist/webhook/main.js')] : ['--import', 'tsx', path.join(root, 'webhook/main.ts')]),
    'serve',
    '--local',
    '--listen',
    '127.0.0.1:0',
    '--bundle',
    bundle,
    '--tls-dir',
    path.join(dir, 'tls'),
    '--state-dir',
    path.join(dir, 'state'),
    '--agent-token-file',
    agents,
    '--approver-token-file',
    approvers,
    '--decision-log',
    path.join(dir, 'decisions.log'),
    '--log-level',
    'warn',
    ...extraArgs,
  ];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway did not start within 120s:\n${output}`)), 120_000);
    child.stderr!.on('data', (b: Buffer) => {
      output = (output + b.toString()).slice(-64 * 1024);
      const m = /belay is serving (https:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}) before serving:\n${output}`));
    });
  });
  const ca = readFileSync(path.join(dir, 'tls', 'ca.crt'));
  return {
    url,
    ca,
    pid: child.pid!,
    peakRssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    output: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One request to send, and what its answer must not be. */
interface Probe {
  readonly method: 'POST' | 'GET';
  readonly path: string;
  readonly body: Buffer | string | null;
  readonly headers: Record<string, string>;
  /** Says what is wrong with an answer that allows what must never be allowed (null: fine). */
  readonly wrongAllow: (status: number, body: unknown) => string | null;
}

export interface FuzzReport {
  sent: number;
  byStatus: Record<string, number>;
  serverErrors: { count: number; examples: string[] };
  wrongAllows: { count: number; examples: string[] };
  peakRssMiB: number;
  seconds: number;
}

const json = (v: unknown) => JSON.stringify(v);
const nothing = () => null;
const agentHeaders = (token: string | null) => ({ 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) });

/**
 * Paths that keep a review what it was (an agent's privileged Pod): an allow
 * of it would be wrong. Not the subresource: a review that names one (a
 * status update, an eviction) is another request, whose object policy does
 * not judge as a Pod — as Kubernetes' own Pod Security admission.
 */
const KEEPS_THE_REQUEST = new Set(['request.dryRun', 'request.namespace', 'request.name', 'request.oldObject', 'kind', 'apiVersion', 'request.uid']);

const probes: fc.Arbitrary<Probe> = fc.oneof(
  // AdmissionReviews as the API server sends them: an agent's privileged Pod is never allowed.
  fc.tuple(admissionReview, fc.constantFrom('/validate', '/mutate')).map(([{ agent, review }, p]) => ({
    method: 'POST' as const,
    path: p,
    body: json(review),
    headers: { 'content-type': 'application/json' },
    wrongAllow: (status: number, body: unknown) =>
      agent && status === 200 && (body as { response?: { allowed?: boolean } })?.response?.allowed === true ? `${p} allowed an agent's privileged Pod` : null,
  })),
  // The same with one field replaced by anything (or removed).
  fc
    .tuple(
      admissionReview,
      reviewPath,
      fc.oneof(anyJson, fc.constant(undefined)),
      fc.constantFrom('/validate', '/mutate', '/validate-approval', '/mutate-approval'),
    )
    .map(([{ agent, review }, where, value, p]) => ({
      method: 'POST' as const,
      path: p,
      body: json(mutate(review, where, value) ?? null),
      headers: { 'content-type': 'application/json' },
      wrongAllow: (status: number, body: unknown) =>
        agent &&
        (p === '/validate' || p === '/mutate') &&
        KEEPS_THE_REQUEST.has(where.join('.')) &&
        status === 200 &&
        (body as { response?: { allowed?: boolean } })?.response?.allowed === true
          ? `${p} allowed an agent's privileged Pod with ${where.join('.')} replaced by ${JSON.stringify(value)?.slice(0, 80)}`
          : null,
    })),
  // SubjectAccessReviews: belay never grants a read (an allowed read is "no opinion").
  fc.tuple(subjectAccessReview, sarPath, fc.oneof(anyJson, fc.constant(undefined)), fc.boolean()).map(([{ review }, where, value, change]) => ({
    method: 'POST' as const,
    path: '/authorize',
    body: json(change ? mutate(review, where, value) : review),
    headers: { 'content-type': 'application/json' },
    wrongAllow: (_status: number, body: unknown) =>
      (body as { status?: { allowed?: boolean } })?.status?.allowed === true ? '/authorize answered allowed: true' : null,
  })),
  // The agent API: with the agent's token, another, or none.
  fc.tuple(toolCallBody, fc.constantFrom(FUZZ_TOKENS.agent, 'not-a-valid-token-0123456789', null)).map(([body, token]) => {
    const productionDelete =
      (body.tool as { name?: unknown }).name === 'resources_delete' &&
      json((body.tool as { target?: unknown }).target) === json({ verb: 'delete', group: 'apps', kind: 'Deployment', namespace: 'prod-billing', name: 'web' });
    return {
      method: 'POST' as const,
      path: '/v1/tool-calls:evaluate',
      body: json(body),
      headers: agentHeaders(token),
      wrongAllow: (status: number, answer: unknown) => {
        const allowed = status === 200 && (answer as { decision?: string })?.decision === 'allow';
        if (allowed && token !== FUZZ_TOKENS.agent) return 'a tool call without a valid token was allowed';
        if (allowed && productionDelete && (answer as { mode?: string })?.mode !== 'observe') return 'a production delete was allowed without an approval';
        return null;
      },
    };
  }),
  fc.tuple(fc.oneof(anyJson, fc.record({ text: fc.string() })), fc.constantFrom('/v1/prompts:check', '/v1/tool-results:redact')).map(([body, p]) => ({
    method: 'POST' as const,
    path: p,
    body: json(body),
    headers: agentHeaders(FUZZ_TOKENS.agent),
    wrongAllow: nothing,
  })),
  // The console: an approver's (and an agent holding the approver group's) decisions, of anything.
  fc.tuple(anyJson, fc.constantFrom(FUZZ_TOKENS.approver, FUZZ_TOKENS.agentApprover)).map(([body, token]) => ({
    method: 'POST' as const,
    path: '/console/api/approvals/prod-billing/belay-0123456789abcdef0123/decision',
    body: json(body),
    headers: agentHeaders(token),
    wrongAllow: (status: number) => (token === FUZZ_TOKENS.agentApprover && status === 200 ? 'an agent decided an approval in the console' : null),
  })),
  // Bodies that are not what they claim: garbage, truncations, hostile shapes, encodings, types.
  fc
    .tuple(
      fc.constantFrom('/validate', '/mutate', '/authorize', '/validate-approval', '/v1/tool-calls:evaluate', '/v1/prompts:check'),
      fc.oneof(
        fc.uint8Array({ maxLength: 512 }).map((b) => ({ body: Buffer.from(b), headers: {} as Record<string, string> })),
        anyJson.map((v) => ({ body: json(v).slice(0, Math.max(1, json(v).length - 3)), headers: {} })),
        fc.nat({ max: 5_000 }).map((d) => ({ body: `${'['.repeat(d)}${']'.repeat(d)}`, headers: {} })),
        fc.nat({ max: 60_000 }).map((n) => ({ body: `[${Array(n).fill('{}').join(',')}]`, headers: {} })),
        anyJson.map((v) => ({ body: gzipSync(json(v)), headers: { 'content-encoding': 'gzip' } })),
        anyJson.map((v) => ({ body: gzipSync(json(v)).subarray(0, 12), headers: { 'content-encoding': 'gzip' } })),
        fc.tuple(anyJson, fc.constantFrom('br', 'zstd', 'compress', 'gzip, gzip', '')).map(([v, e]) => ({ body: json(v), headers: { 'content-encoding': e } })),
        fc
          .tuple(anyJson, fc.constantFrom('text/plain', 'application/json; charset=latin1', 'application/x-yaml', ''))
          .map(([v, t]) => ({ body: json(v), headers: { 'content-type': t } })),
      ),
      fc.constantFrom(FUZZ_TOKENS.agent, null),
    )
    .map(([p, { body, headers }, token]) => ({
      method: 'POST' as const,
      path: p,
      body,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      wrongAllow: (status: number, answer: unknown) => {
        const a = answer as { response?: { allowed?: boolean }; status?: { allowed?: boolean }; decision?: string } | null;
        return status === 200 &&
          (a?.response?.allowed === true || a?.status?.allowed === true || a?.decision === 'allow') &&
          !json(body).includes(HUMAN_USER.username)
          ? `${p} allowed a body that is not a valid request`
          : null;
      },
    })),
  // Reads: approvals by any id, the console's list, health and metrics.
  fc.tuple(fc.string({ maxLength: 40 }), fc.constantFrom(FUZZ_TOKENS.agent, FUZZ_TOKENS.approver, null), fc.nat(4)).map(([id, token, which]) => ({
    method: 'GET' as const,
    path: [`/v1/approvals/${encodeURIComponent(id)}`, `/console/api/approvals?namespace=${encodeURIComponent(id)}`, '/healthz', '/readyz', '/metrics'][which]!,
    body: null,
    headers: (token ? { authorization: `Bearer ${token}` } : {}) as Record<string, string>,
    wrongAllow: nothing,
  })),
);

function send(agent: https.Agent, url: string, ca: Buffer, probe: Probe): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(probe.path, url), { method: probe.method, ca, agent, headers: probe.headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (metrics, health)
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${probe.method} ${probe.path} within 60s`)));
    req.on('error', reject);
    req.end(probe.body ?? undefined);
  });
}

/** Sends `requests` probes (deterministic for a seed), `concurrency` at a time, stopping early at `budgetMs`. */
export async function fuzzGateway(
  gateway: FuzzGateway,
  { requests, concurrency = 8, seed = 12, budgetMs = Number.POSITIVE_INFINITY }: { requests: number; concurrency?: number; seed?: number; budgetMs?: number },
): Promise<FuzzReport> {
  const started = Date.now();
  const report: FuzzReport = {
    sent: 0,
    byStatus: {},
    serverErrors: { count: 0, examples: [] },
    wrongAllows: { count: 0, examples: [] },
    peakRssMiB: 0,
    seconds: 0,
  };
  const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency });
  const batch = 500;
  let made = 0;
  try {
    while (made < requests && Date.now() - started < budgetMs) {
      const list = fc.sample(probes, { numRuns: Math.min(batch, requests - made), seed: seed + made });
      made += list.length;
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < list.length) {
            const probe = list[next++]!;
            let answer: { status: number; body: unknown };
            try {
              answer = await send(agent, gateway.url, gateway.ca, probe);
            } catch (err) {
              // A reset connection (a refused body the server stopped reading) is an answer; anything else is not.
              const code = (err as NodeJS.ErrnoException).code;
              if (code !== 'ECONNRESET' && code !== 'EPIPE') throw err;
              answer = { status: 0, body: null };
            }
            report.sent++;
            report.byStatus[answer.status] = (report.byStatus[answer.status] ?? 0) + 1;
            if (answer.status >= 500) {
              report.serverErrors.count++;
              if (report.serverErrors.examples.length < 5)
                report.serverErrors.examples.push(`${probe.method} ${probe.path} → ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
            }
            const wrong = probe.wrongAllow(answer.status, answer.body);
            if (wrong) {
              report.wrongAllows.count++;
              if (report.wrongAllows.examples.length < 5) report.wrongAllows.examples.push(`${wrong}: ${String(probe.body).slice(0, 300)}`);
            }
          }
        }),
      );
    }
  } finally {
    agent.destroy();
  }
  report.peakRssMiB = Math.round(gateway.peakRssMiB());
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  return report;
}

export function describeReport(r: FuzzReport): string {
  const statuses = Object.entries(r.byStatus)
    .sort()
    .map(([s, n]) => `${s}: ${n}`)
    .join(', ');
  return [
    `requests sent: ${r.sent} in ${r.seconds}s (${statuses})`,
    `5xx: ${r.serverErrors.count}${r.serverErrors.examples.map((e) => `\n  ${e}`).join('')}`,
    `wrong allows: ${r.wrongAllows.count}${r.wrongAllows.examples.map((e) => `\n  ${e}`).join('')}`,
    `gateway peak RSS: ${r.peakRssMiB} MiB`,
  ].join('\n');
}
