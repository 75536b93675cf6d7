// Wires the core into a running gateway: the cluster (or none), bundle and
// configuration overlay, approvals, namespace metadata, metrics, logs, TLS and
// the HTTPS server. Used by main.ts, the CLI and the HTTP tests, so all three
// run the same thing. Configuration comes in as one GatewayConfig
// (config.ts); tests may leave parts out and hand in running parts of their
// own (a logger, a decision sink, an approval gate).

import { type ApprovalGate, noApprovals } from '../src/approvals/gate.js';
import { leaseStates } from '../src/approvals/lease.js';
import { type Approvals, startApprovals } from '../src/approvals/runtime.js';
import { selectAuthenticator } from '../src/auth/select.js';
import { PolicyStore } from '../src/bundle/active.js';
import { type OverlayFile, watchOverlayFile } from '../src/bundle/overlay-file.js';
import { isLive, selectSource } from '../src/bundle/select.js';
import { BundleSync } from '../src/bundle/sync.js';
import { describeAccess, loadKubeConfig, ownNamespace } from '../src/cluster/access.js';
import { gatewayPermissions, whoAmI } from '../src/cluster/permissions.js';
import { BelayError } from '../src/errors.js';
import { startInventorySync } from '../src/gatekeeper/sync.js';
import { NO_AGENTS } from '../src/identity/agents.js';
import { imageFactsSource } from '../src/images/config.js';
import { type NamespaceDirectory, namesOnly } from '../src/namespaces/directory.js';
import { watchNamespaces } from '../src/namespaces/watch.js';
import { loadNotifyConfig } from '../src/notify/config.js';
import { type Notifier, startNotifier } from '../src/notify/runtime.js';
import { DecisionLog } from '../src/observe/decision-log.js';
import { type DecisionSink, discardDecisions } from '../src/observe/decisions.js';
import { createLogger, type Logger } from '../src/observe/log.js';
import { Metrics } from '../src/observe/metrics.js';
import { DecisionShipper } from '../src/observe/ship.js';
import { type Outcomes, startOutcomes } from '../src/outcomes/runtime.js';
import { inProcessEvaluator, type PrepareEvaluator } from '../src/policy/evaluator.js';
import { workerPoolEvaluator } from '../src/policy/pool.js';
import { watchApiServer } from './apiserver.js';
import { ALL_FACES, createApp } from './app.js';
import { type GatewayConfig, type GatewayConfigInput, resolveConfig } from './config.js';
import { checkConsoleOptions, consoleAccess, consoleRoutes } from './console/index.js';
import type { GatewayContext } from './context.js';
import { checkPermissions, type PermissionWatch } from './permissions.js';
import { Readiness } from './readiness.js';
import { type RunningServer, serve } from './server.js';
import { type ServingCertificates, startServingCertificates } from './tls.js';

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
  /** The CA file clients trust; empty in TLS mode self, where the CA is in the Secret. */
  readonly caFile: string;
  readonly config: GatewayConfig;
  /** How it runs, for the start-up line: mode, cluster, store, identity, TLS, overlay. */
  readonly describe: () => Record<string, unknown>;
  /** Stops at once: the listener, then every part. */
  close(): Promise<void>;
  /**
   * Stops gracefully (SIGTERM): not ready at once, still serving for the
   * shutdown delay, then no new connections, the requests in flight finished
   * within the grace period, the Leases handed back, the decision log flushed
   * and shipped as far as it can.
   */
  shutdown(reason: string): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const config = resolveConfig(options);
  const log = options.log ?? createLogger();
  checkConsoleOptions({
    ...(config.cluster.kind !== 'local' ? { kubeconfig: describeAccess(config.cluster) } : {}),
    approverTokenFile: config.console.approverTokenFile,
  });
  const metrics = options.metrics ?? new Metrics();
  // The Leases of this process's singleton jobs, read at each scrape.
  if (!options.metrics) metrics.trackLeases(leaseStates);
  const readiness = new Readiness();
  // Set once asked to stop: the first thing /readyz reports, before anything closes.
  let stopping: string | undefined;
  readiness.require('shutdown', () => stopping);
  const closers: (() => Promise<void> | void)[] = [];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) await c();
  };

  try {
    // The cluster first: TLS mode self and the RBAC check need it.
    const kubeConfig = loadKubeConfig(config.cluster);
    const cluster = describeAccess(config.cluster, kubeConfig);
    const namespace = ownNamespace(config.cluster, kubeConfig) ?? config.approvals.namespace;
    readiness.report('mode', () => (config.cluster.kind === 'local' ? 'local' : 'cluster')).report('cluster', () => cluster);

    const certificates: ServingCertificates = await startServingCertificates(config, { cluster: config.cluster, kubeConfig, namespace, log, metrics });
    closers.push(() => certificates.close());
    readiness.require('tls', () => (certificates.source.current() ? undefined : (certificates.source.problem() ?? 'no TLS certificate loaded')));
    readiness.report('tls', () => certificates.facts());

    // Who the gateway really is: what /readyz reports, and what --gateway-user (the approvals webhook's exception) must match.
    const identity = kubeConfig ? await whoAmI(kubeConfig) : undefined;
    if (kubeConfig) {
      const apiServer = watchApiServer(kubeConfig, { log, ...config.apiServerCheck });
      closers.push(() => apiServer.close());
      readiness.require('apiServer', () => apiServer.problem());
      const permissions: PermissionWatch = await checkPermissions(kubeConfig, permissionsFor(config, namespace), log, identity ? { identity } : {});
      closers.push(() => permissions.close());
      readiness.require('rbac', () => permissions.problem());
      const configured = config.approvals.gatewayUser;
      if (configured && identity && configured !== identity) {
        const problem = `--gateway-user ${configured} is not who the gateway is to the API server (${identity}): the approvals webhook would refuse its writes to ApprovalRequests`;
        log.error(problem);
        readiness.require('identity', () => problem);
      }
    }

    const store = new PolicyStore(options.prepare ?? evaluatorFor(config, log, metrics), { overlayRequired: config.configOverlay !== null });
    closers.push(() => store.close());
    watchActivations(store, log, metrics);
    if (config.configOverlay) {
      const overlay = await startOverlay(config.configOverlay, store, log, metrics);
      closers.push(() => overlay.close());
      readiness.require('configOverlay', () => (store.overlay ? undefined : (overlay.status().error ?? 'configuration overlay not read yet')));
      readiness.report('configOverlay', () => {
        const st = overlay.status();
        return { file: st.file, digest: st.overlay?.digest ?? null, ...(st.error ? { error: st.error } : {}) };
      });
    }
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
    closers.push(() => sync.stop());
    if (!store.current() && !store.waiting) {
      // A file read once cannot get better; a watched or polled source may, so the gateway waits unready.
      if (!isLive(config.bundle)) throw new BelayError('bundle_invalid', store.lastFailure?.message ?? 'no bundle');
      log.warn({ source: sync.status.source }, 'no usable bundle yet; not ready until one activates');
    }

    let namespaces: NamespaceDirectory = namesOnly;
    if (kubeConfig) {
      namespaces = await watchNamespaces(kubeConfig, { onError: (err) => log.warn({ err }, 'namespace watch failed; retrying') });
      closers.push(() => namespaces.close());
    }
    // Gatekeeper's data.inventory: the bundle's sync set watched in the cluster, or files in local mode.
    if (kubeConfig || config.inventory.files) {
      const inventory = startInventorySync({
        store,
        ...(kubeConfig ? { kubeConfig } : { files: config.inventory.files! }),
        maxBytes: config.inventory.maxBytes,
        log,
      });
      closers.push(() => inventory.close());
      await inventory.ready.catch((err) => log.warn({ err }, 'Gatekeeper inventory not ready; referential templates see what has arrived'));
    }

    const decisions = options.decisions ?? decisionLogFor(config, log, metrics, readiness);
    closers.push(() => decisions.close());
    const agents = () => store.current()?.agents ?? NO_AGENTS;
    // Notifications go out from the replica that runs the approvals controller (the Lease holder, or the local process).
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
    if (notifier) {
      closers.push(() => notifier.close());
      readiness.report('notifications', () => notifier.health());
    }
    const approvals: Approvals | undefined = options.approvalGate
      ? undefined
      : await startApprovals({
          ...config.approvals,
          ...(kubeConfig ? { kubeConfig } : {}),
          // No bundle, no decisions: the local store refuses them until one is active.
          agents: () => store.current()?.agents,
          log,
          decisions,
          registry: metrics.registry,
          ...(notifier ? { notifications: (s) => notifier.hook(s) } : {}),
        });
    if (approvals) closers.push(() => approvals.close());
    const gatewayUser = approvals?.gatewayUser ?? config.approvals.gatewayUser;
    // Outcomes need a cluster (workloads to read) and its approval store (status.outcome, remedies).
    const outcomes: Outcomes = startOutcomes({
      ...(kubeConfig && approvals?.store.kind === 'cluster' ? { kubeConfig, approvals: approvals.store } : {}),
      namespace: config.approvals.namespace,
      policy: () => store.current(),
      namespaces,
      log,
      decisions,
      registry: metrics.registry,
      ...(gatewayUser ? { instance: gatewayUser } : {}),
      ...(config.approvals.retentionMs !== undefined ? { limits: { retentionMs: config.approvals.retentionMs } } : {}),
    });
    closers.push(() => outcomes.close());
    readiness.report('store', () =>
      approvals ? `${approvals.store.kind === 'cluster' ? 'ApprovalRequests at' : 'local files in'} ${approvals.store.location}` : 'none',
    );
    readiness.report('identity', () => identity ?? (kubeConfig ? 'unknown (SelfSubjectReview refused)' : 'local'));
    const agentTokens = selectAuthenticator({
      ...(kubeConfig ? { kubeConfig } : {}),
      ...(config.agentApi.tokenFile ? { tokenFile: config.agentApi.tokenFile } : {}),
      audiences: [...config.agentApi.audiences],
    });
    const console = config.console.enabled
      ? consoleAccess({
          ...(kubeConfig ? { kubeConfig } : {}),
          ...(approvals ? { approvalStore: approvals.store } : {}),
          ...(config.console.approverTokenFile ? { approverTokenFile: config.console.approverTokenFile } : {}),
        })
      : {};
    if (console.access) log.info({ mode: console.access.mode, approvers: console.approverTokens?.kind ?? 'none' }, 'approvals console at /console/');
    const images = imageFactsSource(config.images, kubeConfig ? { kubeConfig } : {});
    log.info(
      {
        registries: config.images.registries ?? 'any',
        dockerConfig: config.images.dockerConfig ?? null,
        pullSecrets: config.images.pullSecrets && !!kubeConfig,
        platform: config.images.platform,
        timeoutMs: config.images.timeoutMs,
      },
      'image facts for image-aware fixes',
    );
    const ctx: GatewayContext = {
      store,
      approvals: options.approvalGate ?? approvals?.gate ?? noApprovals,
      ...(approvals ? { approvalStore: approvals.store } : {}),
      namespaces,
      agents,
      outcomes,
      agentsBeforeBundle: config.agentsBeforeBundle,
      instruments: { metrics, log, decisions },
      ...(config.webhookClients.caFile ? { webhookClients: { names: config.webhookClients.names } } : {}),
      bodyLimit: config.bodyLimit,
      bodyShape: config.bodyShape,
      ...(gatewayUser ? { gatewayUser } : {}),
      ...(agentTokens ? { agentTokens } : {}),
      scanTimeoutMs: config.agentApi.scanTimeoutMs,
      console,
      images,
      readiness,
    };
    const faces = config.console.enabled ? ALL_FACES : ALL_FACES.filter((f) => f !== consoleRoutes);
    const server: RunningServer = await serve(createApp(ctx, faces), {
      host: config.host,
      port: config.port,
      tls: certificates.source,
      ...(config.webhookClients.caFile ? { clientCaFile: config.webhookClients.caFile } : {}),
      log,
    });
    // Closed first (closers run last to first): no request is taken while the parts it uses go.
    closers.push(() => server.close(config.shutdown.graceMs));
    return {
      url: server.url,
      store,
      metrics,
      caFile: certificates.caFile ?? '',
      config,
      describe: () => readiness.facts(),
      close: closeAll,
      async shutdown(reason: string) {
        if (!stopping) {
          stopping = `shutting down (${reason}): finishing the requests in flight, taking no new ones`;
          metrics.shuttingDown.set(1);
          log.info({ reason, delayMs: config.shutdown.delayMs, graceMs: config.shutdown.graceMs }, 'not ready: shutting down');
          // Load balancers and endpoints see /readyz fail and stop sending before the listener goes;
          // clients keeping connections alive are told to move (new connections go to ready replicas).
          server.drain();
          await new Promise((r) => setTimeout(r, config.shutdown.delayMs));
        }
        await closeAll();
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * The decision log the configuration asks for: JSON lines, and/or shipping to
 * a service through the spool (which /readyz reports, without ever becoming
 * unready over it: a sink outage must not take the webhook down).
 */
function decisionLogFor(config: GatewayConfig, log: Logger, metrics: Metrics, readiness: Readiness): DecisionSink {
  const ship = config.decisionShipping;
  if (!config.decisionLog && !ship) return discardDecisions;
  const shipper = ship ? new DecisionShipper({ ...ship, labels: { ...ship.labels }, metrics, log }) : undefined;
  if (shipper && ship) {
    log.info({ service: new URL(ship.resource, ship.url).href, spool: ship.spoolDir, pending: shipper.pending, fsync: ship.fsync }, 'shipping decisions');
    readiness.report('decisionShipping', () => ({ service: ship.url, spool: ship.spoolDir, pending: shipper.pending, dropped: shipper.dropped }));
  }
  return new DecisionLog({
    ...(config.decisionLog ?? { destination: null }),
    ...(shipper ? { forward: shipper } : {}),
    onDrop: () => metrics.decisionsDropped.inc({ reason: 'queue_full' }),
    onError: (err) => log.error({ err }, 'decision log write failed'),
  });
}

/** The RBAC the gateway uses in its cluster, TLS mode self's included. */
function permissionsFor(config: GatewayConfig, namespace: string) {
  const self = config.tlsSecret;
  return gatewayPermissions({
    namespace,
    ...(self ? { tls: { secret: self.name, webhooks: self.webhooks, ...(self.configMap ? { configMap: self.configMap } : {}) } } : {}),
  });
}

/** The configuration overlay file, watched: loads and refusals logged and counted. */
function startOverlay(file: string, store: PolicyStore, log: Logger, metrics: Metrics): Promise<OverlayFile> {
  return watchOverlayFile(file, store, {
    onLoaded: (o) => {
      metrics.configOverlayFailure.set(0);
      log.info({ file: o.source, digest: o.digest }, 'configuration overlay loaded');
    },
    onError: (message) => {
      metrics.configOverlayFailure.set(1);
      log.error(
        { err: message },
        store.overlay ? 'configuration overlay refused; the last good one keeps serving' : 'configuration overlay refused; not ready until it is usable',
      );
    },
  });
}

/** Every activation and refusal: logged and counted. */
function watchActivations(store: PolicyStore, log: Logger, metrics: Metrics): void {
  store.onChange((event) => {
    if ('recovered' in event) {
      metrics.bundleLastFailure.set(0);
      log.info(
        { revision: event.recovered.revision, digest: event.recovered.digest },
        'the bundle source serves the active bundle again; the refusal is cleared',
      );
    } else if ('failure' in event) {
      metrics.bundleActivations.inc({ result: 'failed' });
      metrics.bundleLastFailure.set(1);
      log.error({ source: event.failure.source, err: event.failure.message }, 'bundle refused; the previous bundle keeps serving');
    } else {
      metrics.bundleActivations.inc({ result: 'ok' });
      metrics.bundleLastFailure.set(0);
      metrics.setActiveBundle(event.active.bundleRevision, event.active.digest, event.active.source);
      metrics.setConfigOverlay(event.active.configDigest, store.overlay?.source ?? '');
      log.info(
        {
          revision: event.active.revision,
          digest: event.active.digest,
          configDigest: event.active.configDigest,
          source: event.active.source,
          builtins: event.active.evaluator.builtins,
        },
        'bundle activated',
      );
    }
  });
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
