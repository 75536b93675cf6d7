// Wires the core into a running gateway: bundle, approvals, namespace
// metadata, metrics, logs and the HTTPS server. Used by main.ts, the CLI and
// the HTTP tests, so all three run the same thing.

import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { type ApprovalGate, noApprovals } from '../src/approvals/gate.js';
import { type Approvals, startApprovals } from '../src/approvals/runtime.js';
import { selectAuthenticator } from '../src/auth/select.js';
import { PolicyStore } from '../src/bundle/active.js';
import { type BundleSourceSpec, isLive, selectSource } from '../src/bundle/select.js';
import { BundleSync } from '../src/bundle/sync.js';
import type { VerificationConfig } from '../src/bundle/verify.js';
import { BelayError } from '../src/errors.js';
import { type NamespaceDirectory, namesOnly } from '../src/namespaces/directory.js';
import { watchNamespaces } from '../src/namespaces/watch.js';
import { DecisionLog, type DecisionLogOptions } from '../src/observe/decision-log.js';
import { type DecisionSink, discardDecisions } from '../src/observe/decisions.js';
import { createLogger, type Logger } from '../src/observe/log.js';
import { Metrics } from '../src/observe/metrics.js';
import { inProcessEvaluator, type PrepareEvaluator } from '../src/policy/evaluator.js';
import { workerPoolEvaluator } from '../src/policy/pool.js';
import { ensureDevCertificates, tlsPaths } from '../src/tls/devcerts.js';
import { agentFaceRouters } from './agent/faces.js';
import { createApp } from './app.js';
import { approvalsRouter } from './approvals/router.js';
import { checkConsoleOptions, gatewayConsole } from './console/index.js';
import { type RunningServer, serve } from './server.js';

export interface GatewayOptions {
  host?: string;
  port?: number;
  /** The bundle file; used when `bundleSource` is not given. */
  bundlePath?: string;
  /** Where bundles come from: a file, a watched directory or an HTTP bundle server. */
  bundleSource?: BundleSourceSpec;
  /** Keys bundles must be signed with; null or absent accepts unsigned bundles only. */
  verification?: VerificationConfig | null;
  /** Write decisions as JSON lines (when `decisions` is not given). */
  decisionLog?: Omit<DecisionLogOptions, 'onError'>;
  tlsDir?: string;
  /** When set, the gateway talks to this cluster (namespace labels, approvals). */
  kubeconfig?: string;
  bodyLimit?: number;
  log?: Logger;
  metrics?: Metrics;
  /** A gate to use instead of the approvals this gateway would run (tests). */
  approvals?: ApprovalGate;
  /** Approvals: in the cluster with `kubeconfig`, else in a local store. */
  approvalOptions?: ApprovalOptions;
  decisions?: DecisionSink;
  prepare?: PrepareEvaluator;
  /** Where policy runs when `prepare` is not given: a worker pool (default) or the event loop. */
  evaluation?: EvaluationOptions;
  /** Agent gate API tokens: a static token file (local mode), else TokenReview with `kubeconfig`. */
  agentTokenFile?: string;
  /** Audiences a TokenReview of an agent API token requires. */
  agentTokenAudiences?: string[];
  /** Approvals console, local mode: approvers' bearer tokens (with `kubeconfig`, approvers bring their own Kubernetes tokens). */
  approverTokenFile?: string;
}

export interface ApprovalOptions {
  /** Local store directory (default .belay/state). */
  stateDir?: string;
  /** The gateway's username to the API server; asked of the API server when absent. */
  gatewayUser?: string;
  /** Where approvals for cluster-scoped requests live, and the Lease (default belay). */
  namespace?: string;
  /** Who decides when policy names no approver groups (default belay:approvers). */
  approverGroups?: string[];
  /** Overrides the policy's approval ttl (tests, drills). */
  ttlMs?: number;
  /** How long finished approvals are kept before they are deleted (default 24h). */
  retentionMs?: number;
}

export interface EvaluationOptions {
  /** `in-process` runs wasm on the event loop: no time budget can cut it off; for debugging. */
  mode?: 'pool' | 'in-process';
  /** Worker threads per bundle revision (default: the cores). */
  workers?: number;
  /** Budget of one evaluation in ms (default 1000); past it the request fails closed. */
  timeoutMs?: number;
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
  checkConsoleOptions(options);
  const metrics = options.metrics ?? new Metrics();
  const tlsDir = options.tlsDir ?? path.resolve('.belay/tls');
  const { files, created } = ensureDevCertificates(tlsDir);
  if (created) log.info({ dir: tlsDir }, 'generated development CA and serving certificate');

  const evaluation = options.evaluation ?? {};
  const prepare =
    options.prepare ??
    (evaluation.mode === 'in-process'
      ? inProcessEvaluator()
      : workerPoolEvaluator({
          ...(evaluation.workers ? { size: evaluation.workers } : {}),
          ...(evaluation.timeoutMs ? { timeoutMs: evaluation.timeoutMs } : {}),
          onWorkerReplaced: (e) => {
            metrics.workerReplaced(e);
            log.warn({ revision: e.revision, reason: e.reason, err: e.message }, 'policy worker replaced');
          },
          gauges: metrics.poolGauges,
        }));
  const store = new PolicyStore(prepare);
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
  const sourceSpec = options.bundleSource ?? { file: options.bundlePath ?? '.build/bundle.tar.gz' };
  const sync = new BundleSync({
    store,
    source: selectSource(sourceSpec),
    verification: options.verification ?? null,
    onVerified: (e) =>
      log.info(
        { source: e.origin, revision: e.revision, digest: e.digest, signedBy: e.signature?.keyId ?? null },
        e.signature ? 'bundle signature verified' : 'bundle read (unsigned)',
      ),
  });
  await sync.start();
  if (!store.current()) {
    // A file read once cannot get better; a watched or polled source may, so the gateway waits unready.
    if (!isLive(sourceSpec)) throw new BelayError('bundle_invalid', store.lastFailure?.message ?? 'no bundle');
    log.warn({ source: sync.status.source }, 'no usable bundle yet; not ready until one activates');
  }

  let namespaces: NamespaceDirectory = namesOnly;
  let kc: k8s.KubeConfig | undefined;
  if (options.kubeconfig) {
    kc = new k8s.KubeConfig();
    kc.loadFromFile(options.kubeconfig);
    namespaces = await watchNamespaces(kc, { onError: (err) => log.warn({ err }, 'namespace watch failed; retrying') });
  }

  const decisions =
    options.decisions ??
    (options.decisionLog ? new DecisionLog({ ...options.decisionLog, onError: (err) => log.error({ err }, 'decision log write failed') }) : discardDecisions);
  const ao = options.approvalOptions ?? {};
  let approvals: Approvals | undefined;
  if (!options.approvals) {
    approvals = await startApprovals({
      ...(kc ? { kubeConfig: kc } : {}),
      ...(ao.stateDir ? { stateDir: ao.stateDir } : {}),
      ...(ao.gatewayUser ? { gatewayUser: ao.gatewayUser } : {}),
      ...(ao.namespace ? { approvalsNamespace: ao.namespace } : {}),
      ...(ao.approverGroups?.length ? { approverGroups: ao.approverGroups } : {}),
      ...(ao.ttlMs ? { ttlMs: ao.ttlMs } : {}),
      ...(ao.retentionMs ? { retentionMs: ao.retentionMs } : {}),
      agents: () => store.current()?.agents ?? { serviceAccountNamespaces: [], serviceAccounts: [], groups: [], usernames: [] },
      log,
      decisions,
      registry: metrics.registry,
    });
  }
  const gatewayUser = approvals?.gatewayUser ?? ao.gatewayUser;
  const authenticator = selectAuthenticator({
    ...(kc ? { kubeConfig: kc } : {}),
    ...(options.agentTokenFile ? { tokenFile: options.agentTokenFile } : {}),
    ...(options.agentTokenAudiences ? { audiences: options.agentTokenAudiences } : {}),
  });
  const app = createApp({
    store,
    approvals: options.approvals ?? approvals?.gate ?? noApprovals,
    routers: [
      approvalsRouter({
        context: () => {
          const active = store.current();
          return active ? { gatewayUser, agents: active.agents, now: new Date() } : undefined;
        },
        log,
        metrics,
        decisions,
        ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      }),
      ...agentFaceRouters({
        store,
        approvals: options.approvals ?? approvals?.gate ?? noApprovals,
        ...(approvals ? { approvalStore: approvals.store } : {}),
        namespaces,
        decisions,
        metrics,
        log,
        ...(authenticator ? { authenticator } : {}),
        ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      }),
      gatewayConsole({
        ...(kc ? { kubeConfig: kc } : {}),
        ...(approvals ? { approvalStore: approvals.store } : {}),
        ...(options.approverTokenFile ? { approverTokenFile: options.approverTokenFile } : {}),
        agents: () => store.current()?.agents ?? { serviceAccountNamespaces: [], serviceAccounts: [], groups: [], usernames: [] },
        log,
        metrics,
        decisions,
      }),
    ],
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
    await approvals?.close();
    await sync.stop();
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
      await sync.stop();
      await approvals?.close();
      namespaces.close();
      await decisions.close();
      await store.close();
    },
  };
}
