// Once per `vitest run`: the control plane (started, or reused when already
// up), the test identities' RBAC and namespaces, manifests/ installed through
// the local overlay, and the image registry the workloads come from. Each
// test file starts the gateway it needs.

import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureCluster, log, stopCluster } from './cluster.js';
import { paths } from './env.js';
import { installFixtures, installManifests } from './manifests.js';
import { seconds } from './proc.js';
import { startE2eRegistry } from './registry.js';

export default async function setup(): Promise<() => Promise<void>> {
  const t = Date.now();
  rmSync(path.join(paths.out, 'transcript.md'), { force: true });
  mkdirSync(paths.out, { recursive: true });
  const cluster = await ensureCluster();
  warnOnCaMismatch();
  await installFixtures();
  const overlay = await installManifests();
  log(
    `manifests installed (${Object.entries(overlay.urls)
      .map(([n, u]) => `${n} → ${u}`)
      .join(', ')}; dropped ${overlay.dropped.join(', ')})`,
  );
  const registry = await startE2eRegistry();
  log(`image registry at ${registry.images.registry} (auth front ${registry.images.front})`);
  log(`setup done in ${seconds(t)}s`);
  return async function teardown() {
    await registry.stop();
    if (cluster.started && process.env.BELAY_E2E_KEEP_CLUSTER !== '1') {
      await stopCluster();
      log('cluster stopped (set BELAY_E2E_KEEP_CLUSTER=1 to keep it)');
    }
  };
}

/**
 * The API server read the dev CA into its authorization-webhook kubeconfig at
 * start. If .belay/tls was replaced since, Secret reads by agents fall
 * through to RBAC (NoOpinion) instead of reaching belay.
 */
function warnOnCaMismatch(): void {
  try {
    const ca = readFileSync(path.join(paths.tls, 'ca.crt')).toString('base64');
    if (!readFileSync(paths.authzKubeconfig, 'utf8').includes(ca)) {
      log('warning: .belay/tls/ca.crt changed after cluster-up; restart the cluster (make cluster-down cluster-up) for the authorization webhook');
    }
  } catch {
    // no cluster state to compare with
  }
}
