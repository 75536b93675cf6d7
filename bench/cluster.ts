// A control plane of the bench's own (kine + kube-apiserver + controller
// manager, scheduler and kwok, from e2e/cluster-up.sh) in .build/bench/cluster:
// Gatekeeper needs an API server to read its templates from, and the kubectl
// latency runs against it. Its ports come from the BELAY_*_PORT variables
// cluster-up reads when they are set (so a developer running e2e beside it
// can keep them apart), else free ones.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { freePort, type Paths } from './targets.js';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string; timeoutMs?: number } = {}): Promise<Exec> {
  return new Promise((resolve) => {
    const t = process.hrtime.bigint();
    const child = execFile(
      cmd,
      args,
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - t) / 1e6 });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfig: string;
  /** Where the API server calls belay's authorization webhook (cluster-up's BELAY_GATEWAY_PORT). */
  readonly gatewayPort: number;
  /** kubectl as the cluster admin. */
  kubectl(args: string[], stdin?: string): Promise<Exec>;
  stop(): Promise<void>;
}

/** Every port cluster-up.sh listens on or calls. */
const PORTS = [
  'BELAY_APISERVER_PORT',
  'BELAY_KINE_PORT',
  'BELAY_GATEWAY_PORT',
  'BELAY_CONTROLLER_MANAGER_PORT',
  'BELAY_SCHEDULER_PORT',
  'BELAY_KWOK_PORT',
] as const;

const envPort = async (name: string): Promise<number> => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : freePort();
};

export async function startControlPlane(root: string, paths: Paths, say: (msg: string) => void): Promise<ControlPlane> {
  const dir = path.join(root, '.build/bench/cluster');
  const ports: Record<string, string> = {};
  for (const name of PORTS) ports[name] = String(await envPort(name));
  const [api, kine, gateway] = [Number(ports.BELAY_APISERVER_PORT), Number(ports.BELAY_KINE_PORT), Number(ports.BELAY_GATEWAY_PORT)];
  const env = { ...ports, BELAY_CLUSTER_DIR: dir, BELAY_TLS_DIR: paths.tlsDir };
  say(`control plane in ${path.relative(root, dir)} (API server ${api}, kine ${kine})`);
  // A cluster a crashed run left behind is stopped first.
  await run('bash', [path.join(root, 'e2e/cluster-down.sh')], { env, timeoutMs: 60_000 });
  const up = await run('bash', [path.join(root, 'e2e/cluster-up.sh')], { env, timeoutMs: 10 * 60_000 });
  if (up.code !== 0) throw new Error(`cluster-up failed:\n${(up.stderr || up.stdout).trim().split('\n').slice(-8).join('\n')}`);
  const kubeconfig = path.join(dir, 'kubeconfig');
  const kubectl = path.join(root, '.tools/bin/kubectl');
  return {
    dir,
    kubeconfig,
    gatewayPort: gateway,
    kubectl: (args, stdin) => run(kubectl, ['--kubeconfig', kubeconfig, '--context', 'admin', ...args], stdin === undefined ? {} : { stdin }),
    stop: async () => {
      await run('bash', [path.join(root, 'e2e/cluster-down.sh')], { env, timeoutMs: 60_000 });
    },
  };
}
