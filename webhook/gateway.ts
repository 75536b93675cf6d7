// Wires the core into a running gateway: bundle, approvals, namespace
// metadata, metrics, logs and the HTTPS server. Used by main.ts, the CLI and
// the HTTP tests, so all three run the same thing.

import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { noApprovals, type ApprovalGate } from '../src/approvals/gate.js';
import { PolicyStore } from '../src/bundle/active.js';
import { readBundleFile } from '../src/bundle/source.js';
import { namesOnly, type NamespaceDirectory } from '../src/namespaces/directory.js';
import { watchNamespaces } from '../src/namespaces/watch.js';
import { discardDecisions, type DecisionSink } from '../src/observe/decisions.js';
import { createLogger, type Logger } from '../src/observe/log.js';
import { Metrics } from '../src/observe/metrics.js';
import type { PrepareEvaluator } from '../src/policy/evaluator.js';
import { ensureDevCertificates, tlsPaths } from '../src/tls/devcerts.js';
import { createApp } from './app.js';
import { serve, type RunningServer } from './server.js';

export interface GatewayOptions {
  host?: string;
  port?: number;
  bundlePath: string;
  tlsDir?: string;
  /** When set, the gateway talks to this cluster (namespace labels, approvals). */
  kubeconfig?: string;
  bodyLimit?: number;
  log?: Logger;
  metrics?: Metrics;
  approvals?: ApprovalGate;
  decisions?: DecisionSink;
  prepare?: PrepareEvaluator;
}

export interface Gateway {
  readonly url: string;
  readonly store: PolicyStore;
  readonly metrics: Metrics;
  readonly caFile: string;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.log ?? createLogger();
  const metrics = options.metrics ?? new Metrics();
  const tlsDir = options.tlsDir ?? path.resolve('.belay/tls');
  const { files, created } = ensureDevCertificates(tlsDir);
  if (created) log.info({ dir: tlsDir }, 'generated development CA and serving certificate');

  const store = new PolicyStore(options.prepare);
  store.onChange((event) => {
    if ('failure' in event) {
      metrics.bundleActivations.inc({ result: 'failed' });
      metrics.bundleLastFailure.set(1);
      log.error({ source: event.failure.source, err: event.failure.message }, 'bundle refused; the previous bundle keeps serving');
    } else {
      metrics.bundleActivations.inc({ result: 'ok' });
      metrics.bundleLastFailure.set(0);
      metrics.setActiveBundle(event.active.revision, event.active.digest, event.active.source);
      log.info({ revision: event.active.revision, digest: event.active.digest, source: event.active.source, builtins: event.active.evaluator.builtins }, 'bundle activated');
    }
  });
  await store.activate(await readBundleFile(options.bundlePath), options.bundlePath);

  let namespaces: NamespaceDirectory = namesOnly;
  if (options.kubeconfig) {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(options.kubeconfig);
    namespaces = await watchNamespaces(kc, { onError: (err) => log.warn({ err }, 'namespace watch failed; retrying') });
  }

  const decisions = options.decisions ?? discardDecisions;
  const app = createApp({
    store,
    approvals: options.approvals ?? noApprovals,
    namespaces,
    decisions,
    metrics,
    log,
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  });
  let server: RunningServer;
  try {
    server = await serve(app, { host: options.host ?? '127.0.0.1', port: options.port ?? 8443, tls: files, log });
  } catch (err) {
    namespaces.close();
    await store.close();
    throw err;
  }
  return {
    url: server.url,
    store,
    metrics,
    caFile: tlsPaths(tlsDir).caCert,
    async close() {
      await server.close();
      namespaces.close();
      await decisions.close();
      await store.close();
    },
  };
}
