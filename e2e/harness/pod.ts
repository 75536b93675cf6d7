// A pod's container run as a local process, since no kubelet runs here: the
// command, args and environment of a Deployment as the API server stores it,
// on top of the image's ENV (Containerfile), with what a kubelet would give
// the container laid out under a directory of its own:
//
// - the service account: a token from the TokenRequest API (`kubectl create
//   token`), the cluster CA and the namespace in
//   <root>/var/run/secrets/kubernetes.io/serviceaccount, found through
//   BELAY_IN_CLUSTER_PATH_PREFIX (client-node's loadFromCluster prefix) with
//   KUBERNETES_SERVICE_HOST/PORT pointing at the test API server;
// - ConfigMap volumes: their keys written the way the kubelet writes them
//   (..data symlink swap), at <root><mountPath>;
// - emptyDirs and the image's paths: /tmp → <root>/tmp, /opt/belay/bundle →
//   the bundle this checkout built.
//
// The only other change: the listen address (0.0.0.0:8443 → 127.0.0.1:PORT),
// as every replica here shares one host.

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { writeVolume } from '../../src/testkit/volume.js';
import { paths, ports } from './env.js';
import { admin } from './kubectl.js';
import { run } from './proc.js';

const SERVICE_ACCOUNT_DIR = 'var/run/secrets/kubernetes.io/serviceaccount';

interface Container {
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface DeploymentLike {
  metadata: { name: string; namespace: string };
  spec: {
    template: {
      spec: {
        serviceAccountName: string;
        containers: Container[];
        volumes?: { name: string; configMap?: { name: string }; emptyDir?: object; secret?: object }[];
      };
    };
  };
}

/** The runtime stage's ENV of the Containerfile: what every container of the image starts with. */
export function imageEnv(): Record<string, string> {
  const text = readFileSync(path.join(paths.root, 'Containerfile'), 'utf8').replace(/\\\n/g, ' ');
  const runtime = text.split(/^FROM /m).at(-1) ?? '';
  const env: Record<string, string> = {};
  for (const line of runtime.split('\n').filter((l) => /^ENV\s/.test(l.trim()))) {
    for (const m of line.matchAll(/(\w+)=(\S+)/g)) env[m[1]!] = m[2]!;
  }
  return env;
}

export interface PodProcess {
  readonly name: string;
  readonly port: number;
  /** The container's filesystem root here. */
  readonly root: string;
  /** The environment it runs with (for running the CLI "in" it). */
  readonly env: NodeJS.ProcessEnv;
  readonly argv: string[];
  readonly log: string;
  running(): boolean;
  /** Exit code, or the signal that ended it; null while running. */
  exit(): number | string | null;
  stop(): Promise<void>;
}

/** The container's paths on this host. */
function hostPath(root: string, p: string, optDir: string): string {
  if (p.startsWith('/opt/belay/')) return path.join(optDir, p.slice('/opt/belay/'.length));
  if (p === '/tmp' || p.startsWith('/tmp/') || p.startsWith('/etc/belay/') || p.startsWith('/var/')) return path.join(root, p);
  return p;
}

function mapValue(value: string, root: string, optDir: string): string {
  const eq = value.indexOf('=');
  if (value.startsWith('--') && eq > 0) return `${value.slice(0, eq + 1)}${mapValue(value.slice(eq + 1), root, optDir)}`;
  if (value === '0.0.0.0:8443') return value;
  return value.startsWith('/') ? hostPath(root, value, optDir) : value;
}

/** Starts the Deployment's first container as replica `name` on `port`. */
export async function startPodProcess(deployment: DeploymentLike, name: string, port: number): Promise<PodProcess> {
  const { namespace } = deployment.metadata;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0]!;
  const root = path.join(paths.out, 'install', name);
  const optDir = path.join(root, 'opt-belay');
  mkdirSync(path.join(root, 'tmp'), { recursive: true });
  mkdirSync(path.join(optDir, 'bundle'), { recursive: true });
  // The image's default bundle: the one this checkout built.
  copyFileSync(paths.bundle, path.join(optDir, 'bundle', 'bundle.tar.gz'));

  // The service account, as the kubelet projects it.
  const sa = path.join(root, SERVICE_ACCOUNT_DIR);
  mkdirSync(sa, { recursive: true });
  const token = await admin(['create', 'token', pod.serviceAccountName, '-n', namespace, '--duration=2h'], undefined, { quiet: true });
  writeFileSync(path.join(sa, 'token'), token.trim());
  copyFileSync(path.join(paths.cluster, 'pki', 'ca.crt'), path.join(sa, 'ca.crt'));
  writeFileSync(path.join(sa, 'namespace'), namespace);

  // ConfigMap volumes, from the cluster.
  for (const m of container.volumeMounts ?? []) {
    const volume = pod.volumes?.find((v) => v.name === m.name);
    if (!volume?.configMap) continue;
    const cm = JSON.parse(await admin(['get', 'configmap', volume.configMap.name, '-n', namespace, '-o', 'json'], undefined, { quiet: true })) as {
      data?: Record<string, string>;
    };
    writeVolume(path.join(root, m.mountPath), cm.data ?? {});
  }

  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const [k, v] of Object.entries(imageEnv())) env[k] = mapValue(v, root, optDir);
  for (const e of container.env ?? []) if (e.value !== undefined) env[e.name] = mapValue(e.value, root, optDir);
  Object.assign(env, {
    KUBERNETES_SERVICE_HOST: '127.0.0.1',
    KUBERNETES_SERVICE_PORT: String(ports.apiserver),
    BELAY_IN_CLUSTER_PATH_PREFIX: root,
  });
  // The image's entrypoint is `belay`, the built CLI.
  const args = (container.args ?? []).map((a) => (a.startsWith('--listen=') ? `--listen=127.0.0.1:${port}` : mapValue(a, root, optDir)));
  const argv = [...(container.command ?? []), ...args];
  const log = path.join(paths.out, `install-${name}.log`);
  const out = openSync(log, 'w');
  const child: ChildProcess = spawn(process.execPath, [paths.gatewayMain, ...argv], { cwd: root, env, stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    port,
    root,
    env,
    argv,
    log,
    running: () => child.exitCode === null && child.signalCode === null,
    exit: () => child.exitCode ?? child.signalCode,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs the image's CLI (`kubectl exec … -- belay ARGS`) with a pod process's environment. */
export async function execInPod(pod: PodProcess, args: string[]) {
  const r = await run(process.execPath, [paths.gatewayMain, ...args], { env: pod.env, cwd: pod.root, timeoutMs: 60_000 });
  return { ...r, command: `kubectl exec deploy/… -- belay ${args.join(' ')}` };
}
