// Several gateway processes in cluster mode behind a real HAProxy (Debian's
// package, `make haproxy`), for e2e/replicas.e2e.test.ts:
//
//   API server ──https──▶ HAProxy 127.0.0.1:<gateway port> (TCP, round-robin,
//                         health-checked on GET /readyz over TLS)
//                 ├──▶ replica r0 127.0.0.1:<base+1>
//                 ├──▶ replica r1 127.0.0.1:<base+2>
//                 └──▶ replica r2 127.0.0.1:<base+3>
//
// The balancer listens where the cluster's webhook configurations already
// point (BELAY_GATEWAY_PORT), and passes TLS through (like a Service), so each
// replica still checks the API server's client certificate. Every replica has
// its own decision log, spool and log file under .build/e2e/replicas/.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { log } from './cluster.js';
import { paths, ports } from './env.js';
import { ensureGatewayBuilt, gatewayArgs, portInUse } from './gateway.js';
import { waitFor } from './proc.js';

/** Ports of the replicas (base+1…) and the decision-log sink (base+10); BELAY_REPLICAS_PORT_BASE. */
export const replicaPorts = {
  base: Number(process.env.BELAY_REPLICAS_PORT_BASE ?? 19100),
  replica(i: number): number {
    return this.base + 1 + i;
  },
  get sink(): number {
    return this.base + 10;
  },
};

export const replicasDir = () => path.join(paths.out, 'replicas');
export const HAPROXY = process.env.BELAY_HAPROXY ?? '/usr/sbin/haproxy';

/** HAProxy's version line, or why it is missing (make haproxy installs it). */
export function haproxyVersion(): string {
  const r = spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${HAPROXY} is missing: run make haproxy (apt-get install haproxy)`);
  return r.stdout.split('\n')[0]!.trim();
}

function ca(): Buffer {
  return readFileSync(path.join(paths.tls, 'ca.crt'));
}

/** GET https://127.0.0.1:<port><path>: status and body text, or status 0 when nothing answers. */
export function httpsGet(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = https.get(`https://127.0.0.1:${port}${urlPath}`, { ca: ca(), timeout: 2_000, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

export class Replica {
  readonly name: string;
  readonly port: number;
  readonly dir: string;
  #child: ChildProcess | undefined;
  #exited: Promise<number | string | null> = Promise.resolve(null);
  /** Every pid this replica has run as (one per start). */
  readonly pids: number[] = [];

  constructor(
    readonly index: number,
    readonly extraArgs: readonly string[],
  ) {
    this.name = `r${index}`;
    this.port = replicaPorts.replica(index);
    this.dir = path.join(replicasDir(), this.name);
  }

  get decisionLog(): string {
    return path.join(this.dir, 'decisions.log');
  }

  get logFile(): string {
    return path.join(this.dir, 'gateway.log');
  }

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    if (await portInUse(this.port)) throw new Error(`127.0.0.1:${this.port} is in use; set BELAY_REPLICAS_PORT_BASE`);
    mkdirSync(this.dir, { recursive: true });
    const out = openSync(this.logFile, 'a');
    const args = [...gatewayArgs(this.port), '--decision-log', this.decisionLog, '--decision-log-spool', path.join(this.dir, 'spool'), ...this.extraArgs];
    // POD_NAME: the replica's name in its shipped decisions' labels (the Deployment's downward API would set it).
    const child = spawn(process.execPath, args, { cwd: paths.root, env: { ...process.env, POD_NAME: this.name }, stdio: ['ignore', out, out] });
    closeSync(out);
    this.#child = child;
    if (child.pid) this.pids.push(child.pid);
    this.#exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    await waitFor(
      `replica ${this.name} to be ready`,
      async () => {
        if (!this.running) throw new Error(`replica ${this.name} exited; see ${this.logFile}`);
        return (await httpsGet(this.port, '/readyz')).status === 200 ? true : undefined;
      },
      60_000,
      100,
    );
  }

  /** Sends `signal` and waits for the process to end; what it exited with. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | string | null> {
    if (!this.running) return null;
    this.#child!.kill(signal);
    const timer = setTimeout(() => this.#child?.kill('SIGKILL'), timeoutMs);
    const how = await this.#exited;
    clearTimeout(timer);
    return how;
  }

  async metrics(): Promise<string> {
    return (await httpsGet(this.port, '/metrics')).body;
  }
}

/** The three (or n) replicas and the balancer in front of them. */
export class ReplicaSet {
  readonly replicas: Replica[];
  #haproxy: ChildProcess | undefined;
  readonly config = () => path.join(replicasDir(), 'haproxy.cfg');

  constructor(n: number, extraArgs: readonly string[]) {
    this.replicas = Array.from({ length: n }, (_, i) => new Replica(i, extraArgs));
  }

  async start(): Promise<void> {
    await ensureGatewayBuilt();
    rmSync(replicasDir(), { recursive: true, force: true });
    mkdirSync(replicasDir(), { recursive: true });
    if (await portInUse(ports.gateway)) throw new Error(`127.0.0.1:${ports.gateway} (the webhooks' address) is in use`);
    await Promise.all(this.replicas.map((r) => r.start()));
    writeFileSync(this.config(), haproxyConfig(this.replicas));
    const out = openSync(path.join(replicasDir(), 'haproxy.log'), 'a');
    this.#haproxy = spawn(HAPROXY, ['-db', '-f', this.config()], { stdio: ['ignore', out, out] });
    closeSync(out);
    await waitFor('HAProxy to send to every replica', async () => ((await this.upReplicas()).length === this.replicas.length ? true : undefined), 20_000, 100);
    log(`${haproxyVersion()} on 127.0.0.1:${ports.gateway} → ${this.replicas.map((r) => `${r.name}:${r.port}`).join(', ')}`);
  }

  /** Replicas HAProxy's health check has up (its stats socket's CSV: column 18 is the status). */
  async upReplicas(): Promise<string[]> {
    const csv = await new Promise<string>((resolve) => {
      const socket = net.connect(path.join(replicasDir(), 'haproxy.sock'));
      let text = '';
      socket.on('connect', () => socket.write('show stat\n'));
      socket.on('data', (b: Buffer) => (text += b.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', () => resolve(''));
    });
    return csv
      .split('\n')
      .map((l) => l.split(','))
      .filter((f) => f[0] === 'belay' && f[1]?.startsWith('r') && f[17] === 'UP')
      .map((f) => f[1]!);
  }

  async stop(): Promise<void> {
    this.#haproxy?.kill('SIGTERM');
    await Promise.all(this.replicas.map((r) => r.stop('SIGTERM', 20_000)));
  }
}

/**
 * TCP (TLS passed through), round-robin; a replica is taken out after one
 * failed /readyz check (every 300 ms) and back after one good one; a
 * connection refused is retried on another replica (redispatch).
 */
function haproxyConfig(replicas: readonly Replica[]): string {
  return `# Written by e2e/harness/replicas.ts
global
  maxconn 4096
  stats socket ${path.join(replicasDir(), 'haproxy.sock')} mode 600 level admin

defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  retries 3
  option redispatch

frontend webhooks
  bind 127.0.0.1:${ports.gateway}
  default_backend belay

backend belay
  balance roundrobin
  option httpchk
  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  default-server check check-ssl verify none inter 300ms fall 1 rise 1
${replicas.map((r) => `  server ${r.name} 127.0.0.1:${r.port}`).join('\n')}
`;
}
