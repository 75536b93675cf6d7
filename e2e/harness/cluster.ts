// The control plane: built once into .tools/bin, started by e2e/cluster-up.sh
// (which reuses a cluster that is already up), stopped by cluster-down.sh.

import { existsSync } from 'node:fs';
import { paths, ports } from './env.js';
import { run, runOk, seconds } from './proc.js';

export interface ClusterInfo {
  /** True when this process started it (and so should stop it). */
  started: boolean;
  server: string;
}

async function isUp(): Promise<boolean> {
  if (!existsSync(paths.kubeconfig) || !existsSync(paths.kubectl)) return false;
  const r = await run(paths.kubectl, ['--kubeconfig', paths.kubeconfig, '--context', 'admin', 'get', '--raw', '/readyz'], { timeoutMs: 5_000 });
  return r.code === 0 && r.stdout.trim() === 'ok';
}

export async function ensureBinaries(): Promise<void> {
  const t = Date.now();
  // Cheap when the stamps match; the first build takes minutes.
  await runOk('bash', [paths.buildScript], { timeoutMs: 60 * 60_000 });
  log(`control-plane binaries ready in ${seconds(t)}s`);
}

export async function ensureCluster(): Promise<ClusterInfo> {
  const server = `https://127.0.0.1:${ports.apiserver}`;
  if (await isUp()) {
    log(`reusing the cluster at ${server}`);
    return { started: false, server };
  }
  await ensureBinaries();
  const t = Date.now();
  const r = await run('bash', [paths.clusterUp], { timeoutMs: 5 * 60_000 });
  if (r.code !== 0) throw new Error(`cluster-up failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  log(`cluster up in ${seconds(t)}s`);
  return { started: true, server };
}

export async function stopCluster(): Promise<void> {
  await run('bash', [paths.clusterDown], { timeoutMs: 60_000 });
}

export function log(msg: string): void {
  process.stderr.write(`e2e: ${msg}\n`);
}
