// The TLS Secret of TLS mode self, read through the API: every replica
// watches it and serves the pair it holds (a hot swap on every rotation, no
// restart, no volume), and is not ready until it holds a usable one. The
// leader writes it (controller.ts).

import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../observe/log.js';
import type { TlsSecretData } from './rotation.js';
import { type CertificateSource, type ServingPair, servingPair } from './source.js';

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/** The Secret's data as text (values are base64 on the wire). */
export function decodeSecret(secret: k8s.V1Secret | undefined): TlsSecretData {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret?.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

export function encodeSecretData(data: TlsSecretData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') out[k] = Buffer.from(v, 'utf8').toString('base64');
  return out;
}

export interface SecretWatchOptions {
  log?: Logger;
  /** Read the Secret again this often, whatever the watch says (ms). */
  resyncMs?: number;
  /** Pause before a failed watch is started again (ms). */
  retryMs?: number;
}

/**
 * Watches one Secret (list and watch with a metadata.name field selector, so
 * RBAC limited to that name allows it) and calls `onSecret` with each
 * version; a deletion is reported as undefined.
 */
export function watchSecret(kc: k8s.KubeConfig, ref: SecretRef, onSecret: (s: k8s.V1Secret | undefined) => void, options: SecretWatchOptions = {}) {
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const fieldSelector = `metadata.name=${ref.name}`;
  const lw = new k8s.ListWatch<k8s.V1Secret>(
    `/api/v1/namespaces/${ref.namespace}/secrets`,
    new k8s.Watch(kc),
    () => api.listNamespacedSecret({ namespace: ref.namespace, fieldSelector }),
    false,
    undefined,
    fieldSelector,
  );
  let stopped = false;
  let lastVersion: string | undefined;
  const deliver = (s: k8s.V1Secret | undefined) => {
    const version = s?.metadata?.resourceVersion ?? 'deleted';
    if (version === lastVersion) return;
    lastVersion = version;
    onSecret(s);
  };
  lw.on('add', deliver);
  lw.on('update', deliver);
  lw.on('delete', () => deliver(undefined));
  const restart = () => {
    if (stopped) return;
    setTimeout(() => {
      if (!stopped) void lw.start().catch(restartAfterError);
    }, options.retryMs ?? 2_000).unref();
  };
  const restartAfterError = (err: unknown) => {
    options.log?.warn({ secret: `${ref.namespace}/${ref.name}`, err: (err as Error)?.message ?? String(err) }, 'TLS Secret watch failed; retrying');
    restart();
  };
  lw.on('error', restartAfterError);
  // A watch can stall without an error; a plain read now and then catches up.
  const resync = setInterval(() => {
    api.readNamespacedSecret(ref).then(
      (s) => deliver(s),
      (err: { code?: number }) => {
        if (err.code === 404) deliver(undefined);
      },
    );
  }, options.resyncMs ?? 60_000);
  resync.unref();
  return {
    start: () => lw.start().catch(restartAfterError),
    stop() {
      stopped = true;
      clearInterval(resync);
      void lw.stop();
    },
  };
}

/** The serving pair of the TLS Secret, for every replica. */
export function secretCertificateSource(kc: k8s.KubeConfig, ref: SecretRef, options: SecretWatchOptions = {}): CertificateSource & { start(): Promise<void> } {
  const where = `Secret ${ref.namespace}/${ref.name}`;
  let pair: ServingPair | undefined;
  let problem: string | undefined = `waiting for ${where} to hold a certificate`;
  const listeners: ((p: ServingPair) => void)[] = [];
  const watch = watchSecret(
    kc,
    ref,
    (secret) => {
      if (!secret) {
        problem = `${where} is gone${pair ? ' (the certificate loaded last keeps serving)' : ''}`;
        return;
      }
      const data = decodeSecret(secret);
      if (!data['tls.crt'] || !data['tls.key']) {
        problem = `waiting for ${where} to hold a certificate (the leader writes it)`;
        return;
      }
      try {
        const next = servingPair(data['tls.crt'], data['tls.key'], data['ca.crt']);
        if (pair && next.facts.serial === pair.facts.serial) return;
        pair = next;
        problem = undefined;
        for (const l of listeners) l(next);
      } catch (err) {
        problem = `${where} holds no usable certificate: ${(err as Error).message}${pair ? ' (the previous one keeps serving)' : ''}`;
        options.log?.error({ secret: where, err: problem }, 'TLS certificate not loaded');
      }
    },
    options,
  );
  return {
    description: where,
    current: () => pair,
    problem: () => problem,
    onChange: (l) => listeners.push(l),
    start: () => watch.start(),
    close: () => watch.stop(),
  };
}
