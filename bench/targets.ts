// The servers under test, each its own process on 127.0.0.1 with the same
// TLS certificate: belay (dist/webhook/main.js), `opa run --server` with the
// same Rego, and the bare express ceiling.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import path from 'node:path';
import { type TlsFiles, tlsPaths } from '../src/tls/devcerts.js';

export interface Paths {
  root: string;
  opa: string;
  bundle: string;
  tlsDir: string;
  logs: string;
  /** Parent of each belay's own local approval store, fresh per start. */
  state: string;
}

export interface Server {
  readonly name: string;
  readonly origin: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1 (bound and released; the tiny race is acceptable for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Answer {
  status: number;
  body: string;
}

/** One HTTPS request trusting the bench CA. */
export function post(url: string, body: string, ca: Buffer, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, headers: { 'content-type': 'application/json' }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout calling ${url}`)));
    req.on('error', reject);
    req.end(method === 'GET' ? undefined : body);
  });
}

async function waitReady(name: string, child: ChildProcess, probe: () => Promise<boolean>, log: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) while starting; see ${log}:\n${tail(log)}`);
    }
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not become ready in ${timeoutMs / 1000}s; see ${log}:\n${tail(log)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

function launch(name: string, command: string, args: string[], paths: Paths, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; log: string } {
  mkdirSync(paths.logs, { recursive: true });
  const log = path.join(paths.logs, `${name}.log`);
  const fd = openSync(log, 'w');
  // stdout (belay's JSON decision log, one line per request) is discarded so
  // a run does not fill the disk; the write cost itself stays in the figures.
  const child = spawn(command, args, { cwd: paths.root, stdio: ['ignore', 'ignore', fd], env: { ...process.env, ...env } });
  closeSync(fd);
  return { child, log };
}

/** Stops a server: SIGTERM, SIGKILL after 10 s, resolved once it exited. */
export function stopper(child: ChildProcess): () => Promise<void> {
  return async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

export interface BelayOptions {
  bundle?: string;
  evaluator?: 'pool' | 'in-process';
  workers?: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  name?: string;
  /** Keep the approvals an earlier belay of the same name left, instead of a fresh store. */
  keepState?: boolean;
}

export async function startBelay(paths: Paths, options: BelayOptions = {}): Promise<Server> {
  const port = await freePort();
  const name = options.name ?? 'belay';
  // Local mode keeps deferred requests in a durable store: a fresh one per
  // run, so runs do not see each other's approvals (nor a developer's .belay/state).
  const stateDir = path.join(paths.state, name);
  if (!options.keepState) rmSync(stateDir, { recursive: true, force: true });
  const args = [
    ...(options.nodeArgs ?? []),
    path.join(paths.root, 'dist/webhook/main.js'),
    '--listen',
    `127.0.0.1:${port}`,
    '--bundle',
    options.bundle ?? paths.bundle,
    '--tls-dir',
    paths.tlsDir,
    '--local',
    '--state-dir',
    stateDir,
    '--evaluator',
    options.evaluator ?? 'pool',
    ...(options.workers ? ['--eval-workers', String(options.workers)] : []),
  ];
  // Default log level (info): belay logs every decision, as it would in production.
  const { child, log } = launch(name, process.execPath, args, paths);
  const origin = `https://127.0.0.1:${port}`;
  const ca = readFileSync(tlsPaths(paths.tlsDir).caCert);
  await waitReady(name, child, async () => (await post(`${origin}/readyz`, '', ca, 'GET')).status === 200, log);
  return { name, origin, pid: child.pid!, stop: stopper(child) };
}

/**
 * OPA as the kube-mgmt tutorial runs it: `opa run --server` over TLS, the
 * policy and data loaded from disk, POST / answered by data.system.main.
 */
export async function startOpa(paths: Paths, dirs: string[], name = 'opa'): Promise<Server> {
  const port = await freePort();
  const tls: TlsFiles = tlsPaths(paths.tlsDir);
  const args = [
    'run',
    '--server',
    '--addr',
    `127.0.0.1:${port}`,
    '--tls-cert-file',
    tls.cert,
    '--tls-private-key-file',
    tls.key,
    '--skip-version-check',
    // No request or decision logs: the tutorial turns console decision logs
    // on, which would write every 2-30 KB input; left off, to OPA's advantage.
    '--log-level',
    'error',
    // policies/gatekeeper/ holds Gatekeeper YAML that make bundle compiles; opa would load it as data.
    '--ignore',
    'gatekeeper',
    ...dirs,
  ];
  const { child, log } = launch(name, paths.opa, args, paths);
  const origin = `https://127.0.0.1:${port}`;
  const ca = readFileSync(tls.caCert);
  await waitReady(name, child, async () => (await post(`${origin}/health?bundles`, '', ca, 'GET')).status === 200, log);
  return { name, origin, pid: child.pid!, stop: stopper(child) };
}

export async function startCeiling(paths: Paths): Promise<Server> {
  const port = await freePort();
  const { child, log } = launch(
    'ceiling',
    process.execPath,
    [path.join(paths.root, 'dist/bench/ceiling.js'), '--listen', `127.0.0.1:${port}`, '--tls-dir', paths.tlsDir],
    paths,
  );
  const origin = `https://127.0.0.1:${port}`;
  const ca = readFileSync(tlsPaths(paths.tlsDir).caCert);
  const probe = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'probe' } });
  await waitReady('ceiling', child, async () => (await post(`${origin}/validate`, probe, ca)).status === 200, log);
  return { name: 'ceiling', origin, pid: child.pid!, stop: stopper(child) };
}
