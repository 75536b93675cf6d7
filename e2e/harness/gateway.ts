// The belay gateway as a child process of the test run:
//   node dist/webhook/main.js --listen 127.0.0.1:<port> --bundle .build/bundle.tar.gz
//        --tls-dir .belay/tls --kubeconfig .cluster/belay.kubeconfig
//        --image-registries <the e2e registry and its auth front>
// It runs with the gateway's in-cluster identity (system:serviceaccount:belay:belay,
// a client certificate made by cluster-up.sh), so the RBAC in manifests/rbac is
// what it gets.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { log } from './cluster.js';
import { gatewayUrl, paths, ports } from './env.js';
import { runOk, seconds, waitFor } from './proc.js';
import { gatewayImageArgs } from './registry.js';

const pidFile = () => path.join(paths.out, 'gateway.pid');
export const gatewayLog = () => path.join(paths.out, 'gateway.log');

/** Builds what the gateway needs when it is missing (make e2e builds it first). */
export async function ensureGatewayBuilt(): Promise<void> {
  if (!existsSync(paths.gatewayMain) || process.env.BELAY_E2E_REBUILD === '1') {
    const t = Date.now();
    await runOk('npm', ['run', 'build'], { cwd: paths.root, timeoutMs: 10 * 60_000 });
    log(`gateway compiled in ${seconds(t)}s`);
  }
  if (!existsSync(paths.bundle)) {
    const t = Date.now();
    await runOk('make', ['--no-print-directory', 'bundle'], { cwd: paths.root, timeoutMs: 10 * 60_000 });
    log(`bundle built in ${seconds(t)}s`);
  }
}

/** GET <gateway>/<path> trusting the dev CA; resolves with the status code. */
export function probe(urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${gatewayUrl}${urlPath}`, { ca: readFileSync(path.join(paths.tls, 'ca.crt')), timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

export class Gateway {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #args: readonly string[];

  /** `args`: flags after the harness's own (e.g. --decision-log <file>). */
  constructor(options: { args?: readonly string[] } = {}) {
    this.#args = options.args ?? [];
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    await ensureGatewayBuilt();
    stopLeftover();
    if (await portInUse(ports.gateway)) {
      throw new Error(
        `127.0.0.1:${ports.gateway} is already in use (a gateway from \`make run\`?); stop it or set BELAY_GATEWAY_PORT for both cluster-up and the suite`,
      );
    }
    mkdirSync(paths.out, { recursive: true });
    const t = Date.now();
    const out = openSync(gatewayLog(), 'a');
    // One gateway, no load balancer to tell: nothing to wait for on SIGTERM.
    const args = [...gatewayArgs(ports.gateway), '--shutdown-delay', '0s', ...this.#args];
    const child = spawn(process.execPath, args, { cwd: paths.root, stdio: ['ignore', out, out] });
    closeSync(out);
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    if (child.pid) writeFileSync(pidFile(), String(child.pid));
    try {
      await waitFor(
        'the gateway to answer /readyz',
        async () => {
          if (!this.running) throw new Error(`the gateway exited (${child.exitCode ?? child.signalCode}); see ${gatewayLog()}:\n${tail()}`);
          return (await probe('/readyz').catch(() => 0)) === 200 ? true : undefined;
        },
        30_000,
        100,
      );
    } catch (e) {
      await this.stop();
      throw e;
    }
    log(`gateway ready at ${gatewayUrl} in ${seconds(t)}s (log ${gatewayLog()})`);
  }

  /** Kills the gateway outright (SIGKILL): no shutdown, no lease handed back, nothing flushed. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (this.running) {
      child.kill('SIGKILL');
      await this.#exited;
    }
    this.#child = undefined;
    rmSync(pidFile(), { force: true });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    if (this.running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#child = undefined;
    rmSync(pidFile(), { force: true });
  }
}

/** The e2e gateway's command line (node's arguments) serving on 127.0.0.1:`port`, as the cluster's webhooks expect it. */
export function gatewayArgs(port: number): string[] {
  return [
    paths.gatewayMain,
    '--listen',
    `127.0.0.1:${port}`,
    '--bundle',
    paths.bundle,
    '--tls-dir',
    paths.tls,
    '--kubeconfig',
    paths.gatewayKubeconfig,
    // Image facts from the e2e registry only (every other image is unknown).
    ...gatewayImageArgs(),
    // Only the API server may call the webhooks: its client certificates come from the cluster CA (cluster-up.sh).
    '--webhook-client-ca',
    path.join(paths.cluster, 'pki', 'ca.crt'),
    '--webhook-client-name',
    'kube-apiserver-webhook-client',
    'kube-apiserver-authz-client',
  ];
}

export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A gateway left behind by an earlier run that crashed (recorded pid, our program). */
function stopLeftover(): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(), 'utf8'));
  } catch {
    return;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes(paths.gatewayMain)) process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
  rmSync(pidFile(), { force: true });
}

function tail(): string {
  try {
    return readFileSync(gatewayLog(), 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}
