// Wires the core into a running gateway: bundle, approvals, namespace
// metadata, metrics, logs and the HTTPS server. Used by main.ts, the CLI and
// the HTTP tests, so all three run the same thing. Configuration comes in as
// one GatewayConfig (config.ts); tests may leave parts out and hand in
// running parts of their own (a logger, a decision sink, an approval gate).

import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type ApprovalGate, noApprovals } from '../src/approvals/gate.js';
import { type Approvals, startApprovals } from '../src/approvals/runtime.js';
import { selectAuthenticator } from '../src/auth/select.js';
import { PolicyStore } from '../src/bundle/active.js';
import { isLive, selectSource } from '../src/bundle/select.js';
import { BundleSync } from '../src/bundle/sync.js';
import { BelayError } from '../src/errors.js';
import { NO_AGENTS } from '../src/identity/agents.js';
import { type NamespaceDirectory, namesOnly } from '../src/namespaces/directory.js';
import { watchNamespaces } from '../src/namespaces/watch.js';
import { loadNotifyConfig } from '../src/notify/config.js';
import { type Notifier, startNotifier } from '../src/notify/runtime.js';
import { DecisionLog } from '../src/observe/decision-log.js';
import { type DecisionSink, discardDecisions } from '../src/observe/decisions.js';
import { createLogger, type Logger } from '../src/observe/log.js';
import { Metrics } from '../src/observe/metrics.js';
import { inProcessEvaluator, type PrepareEvaluator } from '../src/policy/evaluator.js';
import { workerPoolEvaluator } from '../src/policy/pool.js';
import { ensureDevCertificates, tlsPaths } from '../src/tls/devcerts.js';
import { createApp } from './app.js';
import { type GatewayConfig, type GatewayConfigInput, resolveConfig } from './config.js';
import { checkConsoleOptions, consoleAccess } from './console/index.js';
import type { GatewayContext } from './context.js';
import { type RunningServer, serve } from './server.js';

/** Running parts a caller may bring instead of the ones the gateway would make (tests, the CLI). */
export interface GatewayParts {
  log?: Logger;
  metrics?: Metrics;
  /** Replaces the decision log the configuration asks for. */
  decisions?: DecisionSink;
  /** An approval gate to use instead of the approvals this gateway would run. */
  approvalGate?: ApprovalGate;
  /** Where policy runs, instead of what `evaluation` asks for. */
  prepare?: PrepareEvaluator;
}

export type GatewayOptions = GatewayConfigInput & GatewayParts;

export interface Gateway {
  readonly url: string;
  readonly store: PolicyStore;
  readonly metrics: Metrics;
  readonly caFile: string;
  readonly config: GatewayConfig;
  close(): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config = resolveConfig(options);
  const log = options.log ?? createLogger();
  checkConsoleOptions({ kubeconfig: config.kubeconfig, approverTokenFile: config.console.approverTokenFile });
  const metrics = options.metrics ?? new Metrics();
  const tlsDir = path.resolve(config.tlsDir);
  const { files, created } = ensureDevCertificates(tlsDir);
  if (created) log.info({ dir: tlsDir }, 'generated development CA and serving certificate');

  const store = new PolicyStore(options.prepare ?? evaluatorFor(config, log, metrics));
  store.onChange((event) => {
    if ('failure' in event) {
      metrics.bundleActivations.inc({ result: 'failed' });
      metrics.bundleLastFailure.set(1);
      log.error({ source: event.failure.source, err: event.failure.message }, 'bundle refused; the previous bundle keeps serving');
    } else {
      metrics.bundleActivations.inc({ result: 'ok' });
      metrics.bundleLastFailure.set(0);
      metrics.setActiveBundle(event.active.revision, event.active.digest, event.active.source);
      log.info(
        { revision: event.active.revision, digest: event.active.digest, source: event.active.source, builtins: event.active.evaluator.builtins },
        'bundle activated',
      );
    }
  });
  const sync = new BundleSync({
    store,
    source: selectSource(config.bundle),
    verification: config.verification,
    onVerified: (e) =>
      log.info(
        { source: e.origin, revision: e.revision, digest: e.digest, signedBy: e.signature?.keyId ?? null },
        e.signature ? 'bundle signature verified' : 'bundle read (unsigned)',
      ),
  });
  await sync.start();
  if (!store.current()) {
    // A file read once cannot get better; a watched or polled source may, so the gateway waits unready.
    if (!isLive(config.bundle)) throw new BelayError('bundle_invalid', store.lastFailure?.message ?? 'no bundle');
    log.warn({ source: sync.status.source }, 'no usable bundle yet; not ready until one activates');
  }

  let namespaces: NamespaceDirectory = namesOnly;
  let kubeConfig: k8s.KubeConfig | undefined;
  if (config.kubeconfig) {
    kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(config.kubeconfig);
    namespaces = await watchNamespaces(kubeConfig, { onError: (err) => log.warn({ err }, 'namespace watch failed; retrying') });
  }

  const decisions =
    options.decisions ??
    (config.decisionLog ? new DecisionLog({ ...config.decisionLog, onError: (err) => log.error({ err }, 'decision log write failed') }) : discardDecisions);
  const agents = () => store.current()?.agents ?? NO_AGENTS;
  const notifier: Notifier | undefined =
    config.notifications.configFile && !options.approvalGate
      ? startNotifier({
          config: loadNotifyConfig(config.notifications.configFile),
          policyData: () => store.current()?.data,
          log,
          registry: metrics.registry,
          ...(kubeConfig ? {} : { stateDir: config.approvals.stateDir }),
          ...(config.notifications.tickMs ? { tickMs: config.notifications.tickMs } : {}),
        })
      : undefined;
  const approvals: Approvals | undefined = options.approvalGate
    ? undefined
    : await startApprovals({
        ...config.approvals,
        ...(kubeConfig ? { kubeConfig } : {}),
        agents,
        log,
        decisions,
        registry: metrics.registry,
        ...(notifier ? { notifications: (s) => notifier.hook(s) } : {}),
      });
  const gatewayUser = approvals?.gatewayUser ?? config.approvals.gatewayUser;
  const agentTokens = selectAuthenticator({
    ...(kubeConfig ? { kubeConfig } : {}),
    ...(config.agentApi.tokenFile ? { tokenFile: config.agentApi.tokenFile } : {}),
    audiences: [...config.agentApi.audiences],
  });
  const console = consoleAccess({
    ...(kubeConfig ? { kubeConfig } : {}),
    ...(approvals ? { approvalStore: approvals.store } : {}),
    ...(config.console.approverTokenFile ? { approverTokenFile: config.console.approverTokenFile } : {}),
  });
  if (console.access) log.info({ mode: console.access.mode, approvers: console.approverTokens?.kind ?? 'none' }, 'approvals console at /console/');
  const ctx: GatewayContext = {
    store,
    approvals: options.approvalGate ?? approvals?.gate ?? noApprovals,
    ...(approvals ? { approvalStore: approvals.store } : {}),
    namespaces,
    agents,
    instruments: { metrics, log, decisions },
    bodyLimit: config.bodyLimit,
    ...(gatewayUser ? { gatewayUser } : {}),
    ...(agentTokens ? { agentTokens } : {}),
    scanTimeoutMs: config.agentApi.scanTimeoutMs,
    console,
    ...(notifier ? { readiness: () => ({ notifications: notifier.health() }) } : {}),
  };
  let server: RunningServer;
  try {
    server = await serve(createApp(ctx), { host: config.host, port: config.port, tls: files, log });
  } catch (err) {
    namespaces.close();
    await approvals?.close();
    await notifier?.close();
    await sync.stop();
    await store.close();
    throw err;
  }
  return {
    url: server.url,
    store,
    metrics,
    caFile: tlsPaths(tlsDir).caCert,
    config,
    async close() {
      await server.close();
      await sync.stop();
      await approvals?.close();
      await notifier?.close();
      namespaces.close();
      await decisions.close();
      await store.close();
    },
  };
}

/** Where policy runs: a worker pool (replaced workers logged and counted), or the event loop. */
function evaluatorFor(config: GatewayConfig, log: Logger, metrics: Metrics): PrepareEvaluator {
  if (config.evaluation.mode === 'in-process') return inProcessEvaluator();
  return workerPoolEvaluator({
    ...(config.evaluation.workers ? { size: config.evaluation.workers } : {}),
    timeoutMs: config.evaluation.timeoutMs,
    onWorkerReplaced: (e) => {
      metrics.workerReplaced(e);
      log.warn({ revision: e.revision, reason: e.reason, err: e.message }, 'policy worker replaced');
    },
    gauges: metrics.poolGauges,
  });
}
