// The console as the gateway mounts it: which approvals it reaches and how it
// knows approvers, chosen from what the gateway runs with.
//
//   --kubeconfig            → cluster: TokenReview says who the token is; every
//                             read and decision goes to the API server with that
//                             token (never the gateway's own credentials)
//   local approval store    → local: --approver-token-file maps tokens to users
//                             and groups; the store applies separation of duties
//   neither (a test's fake gate) → the page loads, the API answers 503

import type * as k8s from '@kubernetes/client-node';
import type { Router } from 'express';
import type { ApprovalStore } from '../../src/approvals/store.js';
import type { Authenticator } from '../../src/auth/authenticator.js';
import { selectAuthenticator } from '../../src/auth/select.js';
import { type ApprovalAccess, clusterAccess, localAccess } from '../../src/console/access.js';
import { BelayError } from '../../src/errors.js';
import type { AgentSelector } from '../../src/identity/agents.js';
import type { DecisionSink } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { type ConsoleRouterOptions, consoleRouter } from './router.js';

export { CONSOLE_PATH, type ConsoleRouterOptions, consoleRouter } from './router.js';

export interface GatewayConsoleOptions {
  /** The gateway's cluster; only its address and CA are used for approvers' calls. */
  kubeConfig?: k8s.KubeConfig;
  /** The local approval store the gateway runs (local mode). */
  approvalStore?: ApprovalStore;
  /** Local mode: YAML list of {token, username, groups} for approvers. */
  approverTokenFile?: string;
  agents: () => AgentSelector;
  log: Logger;
  metrics: Metrics;
  decisions: DecisionSink;
  pollIntervalMs?: number;
}

/** Throws bad_request for a configuration that cannot work (checked before the gateway starts anything). */
export function checkConsoleOptions(o: { kubeconfig?: string | undefined; approverTokenFile?: string | undefined }): void {
  if (o.kubeconfig && o.approverTokenFile) {
    throw new BelayError(
      'bad_request',
      "--approver-token-file is for local mode; with --kubeconfig the console takes each approver's own Kubernetes token and decides with it",
    );
  }
}

export function gatewayConsole(o: GatewayConsoleOptions): Router {
  let access: ApprovalAccess | undefined;
  let authenticator: Authenticator | undefined;
  if (o.kubeConfig) {
    access = clusterAccess(o.kubeConfig);
    // No audiences: approvers bring their own tokens (kubectl create token, OIDC), minted for the API server.
    authenticator = selectAuthenticator({ kubeConfig: o.kubeConfig });
  } else if (o.approvalStore) {
    access = localAccess(o.approvalStore);
    authenticator = o.approverTokenFile ? selectAuthenticator({ tokenFile: o.approverTokenFile }) : undefined;
  }
  const options: ConsoleRouterOptions = {
    agents: o.agents,
    log: o.log,
    metrics: o.metrics,
    decisions: o.decisions,
    ...(access ? { access } : {}),
    ...(authenticator ? { authenticator } : {}),
    ...(o.pollIntervalMs !== undefined ? { pollIntervalMs: o.pollIntervalMs } : {}),
  };
  if (access) o.log.info({ mode: access.mode, approvers: authenticator?.kind ?? 'none' }, 'approvals console at /console/');
  return consoleRouter(options);
}
