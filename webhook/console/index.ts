// The console as the gateway mounts it: which approvals it reaches and how it
// knows approvers, chosen from what the gateway runs with.
//
//   a cluster               → cluster: TokenReview says who the token is; every
//                             read and decision goes to the API server with that
//                             token (never the gateway's own credentials)
//   local approval store    → local: --approver-token-file maps tokens to users
//                             and groups; the store applies separation of duties
//   neither (a test's fake gate) → the page loads, the API answers 503

import type * as k8s from '@kubernetes/client-node';
import type { ApprovalStore } from '../../src/approvals/store.js';
import type { Authenticator } from '../../src/auth/authenticator.js';
import { selectAuthenticator } from '../../src/auth/select.js';
import { type ApprovalAccess, clusterAccess, localAccess } from '../../src/console/access.js';
import { BelayError } from '../../src/errors.js';

export { CONSOLE_PATH, type ConsoleRouterOptions, consoleRoutes } from './router.js';

export interface ConsoleAccessOptions {
  /** The gateway's cluster; only its address and CA are used for approvers' calls. */
  kubeConfig?: k8s.KubeConfig;
  /** The local approval store the gateway runs (local mode). */
  approvalStore?: ApprovalStore;
  /** Local mode: YAML list of {token, username, groups} for approvers. */
  approverTokenFile?: string;
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

/** How the console reaches approvals and knows approvers, for the gateway context. */
export function consoleAccess(o: ConsoleAccessOptions): { access?: ApprovalAccess; approverTokens?: Authenticator } {
  if (o.kubeConfig) {
    // No audiences: approvers bring their own tokens (kubectl create token, OIDC), minted for the API server.
    return { access: clusterAccess(o.kubeConfig), approverTokens: selectAuthenticator({ kubeConfig: o.kubeConfig }) };
  }
  if (o.approvalStore) {
    const approverTokens = o.approverTokenFile ? selectAuthenticator({ tokenFile: o.approverTokenFile }) : undefined;
    return { access: localAccess(o.approvalStore), ...(approverTokens ? { approverTokens } : {}) };
  }
  return {};
}
