// Which certificate the gateway serves, by TLS mode: the Secret belay keeps
// itself (--tls-secret: every replica watches it, the Lease holder rotates
// it), or files in --tls-dir (cert-manager, an existing Secret, development).
// A development CA is made only outside a pod, where nobody else would
// provide one; in a pod, missing files keep the gateway not ready instead.

import path from 'node:path';
import type * as k8s from '@kubernetes/client-node';
import type { ClusterAccess } from '../src/cluster/access.js';
import type { Logger } from '../src/observe/log.js';
import type { Metrics } from '../src/observe/metrics.js';
import { CertificateController } from '../src/tls/controller.js';
import { ensureDevCertificates, tlsPaths } from '../src/tls/devcerts.js';
import { secretCertificateSource } from '../src/tls/secret.js';
import { type CertificateSource, dirCertificateSource } from '../src/tls/source.js';
import type { GatewayConfig } from './config.js';

export interface ServingCertificates {
  readonly source: CertificateSource;
  /** The CA file clients trust, when the certificate comes from files. */
  readonly caFile: string | undefined;
  /** What /readyz reports about TLS. */
  facts(): Record<string, unknown>;
  close(): Promise<void>;
}

export interface TlsDeps {
  readonly cluster: ClusterAccess;
  readonly kubeConfig: k8s.KubeConfig | undefined;
  /** The gateway's own namespace (the Secret's, the ConfigMap's, the Lease's). */
  readonly namespace: string;
  readonly log: Logger;
  readonly metrics: Metrics;
}

/**
 * How long a new CA is published before a certificate it signed is served: a
 * minute (API servers see a webhook configuration change within seconds), but
 * no more than a tenth of the CA's life or a sixth of the certificate's, so
 * the certificate waiting to move is still well within its life.
 */
function propagationMs(caValidityMs: number, certValidityMs: number): number {
  return Math.min(60_000, Math.floor(caValidityMs / 10), Math.floor(certValidityMs / 6));
}

export async function startServingCertificates(config: GatewayConfig, deps: TlsDeps): Promise<ServingCertificates> {
  const { log, metrics } = deps;
  const self = config.tlsSecret;
  if (self) {
    if (!deps.kubeConfig) throw new Error('--tls-secret needs a cluster (in a pod, or --kubeconfig)');
    const ref = { namespace: deps.namespace, name: self.name };
    const controller = new CertificateController(deps.kubeConfig, {
      secret: ref,
      policy: {
        caValidityMs: self.caValidityMs,
        certValidityMs: self.certValidityMs,
        hosts: self.hosts,
        propagationMs: propagationMs(self.caValidityMs, self.certValidityMs),
      },
      webhooks: self.webhooks,
      ...(self.configMap ? { configMap: self.configMap } : {}),
      log,
      onRotated: (what) => metrics.tlsRotations.inc({ what }),
    });
    const source = secretCertificateSource(deps.kubeConfig, ref, { log });
    source.onChange((pair) => {
      metrics.tlsNotAfter.set(pair.facts.notAfter.getTime() / 1000);
      // Someone else may have written it: the leader looks again.
      controller.nudge();
    });
    await source.start();
    controller.start();
    log.info({ secret: `${ref.namespace}/${ref.name}`, hosts: self.hosts, webhooks: self.webhooks.map((w) => `${w.kind}/${w.name}`) }, 'TLS mode self');
    return {
      source,
      caFile: undefined,
      facts: () => ({ mode: 'self', ...pairFacts(source), leader: controller.leading }),
      async close() {
        await controller.stop();
        await source.close();
      },
    };
  }

  const dir = path.resolve(config.tlsDir);
  if (deps.cluster.kind !== 'in-cluster') {
    const { created } = ensureDevCertificates(dir);
    if (created) log.info({ dir }, 'generated development CA and serving certificate');
  }
  const files = tlsPaths(dir);
  const source = await dirCertificateSource(files, { log });
  source.onChange((pair) => metrics.tlsNotAfter.set(pair.facts.notAfter.getTime() / 1000));
  const first = source.current();
  if (first) metrics.tlsNotAfter.set(first.facts.notAfter.getTime() / 1000);
  return {
    source,
    caFile: files.caCert,
    facts: () => ({ mode: 'files', ...pairFacts(source) }),
    close: async () => source.close(),
  };
}

function pairFacts(source: CertificateSource): Record<string, unknown> {
  const pair = source.current();
  return {
    source: source.description,
    serial: pair?.facts.serial ?? null,
    notAfter: pair?.facts.notAfter.toISOString() ?? null,
    ...(source.problem() ? { problem: source.problem() } : {}),
  };
}
