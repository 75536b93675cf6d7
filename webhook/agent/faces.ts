// The routers of the authorization webhook and the agent gate API, built from
// the gateway's parts, for webhook/gateway.ts to mount.

import type { Router } from 'express';
import type { ApprovalGate } from '../../src/approvals/gate.js';
import type { Authenticator } from '../../src/auth/authenticator.js';
import type { PolicyStore } from '../../src/bundle/active.js';
import { ReadGrants } from '../../src/decide/authorization.js';
import type { NamespaceDirectory } from '../../src/namespaces/directory.js';
import type { DecisionSink } from '../../src/observe/decisions.js';
import type { Logger } from '../../src/observe/log.js';
import type { Metrics } from '../../src/observe/metrics.js';
import { authorizationRouter } from '../authorization/index.js';
import { type ApprovalReader, agentApiRouter } from './index.js';

export interface FaceRouterOptions {
  store: PolicyStore;
  approvals: ApprovalGate;
  approvalStore?: ApprovalReader;
  namespaces: NamespaceDirectory;
  decisions: DecisionSink;
  metrics: Metrics;
  log: Logger;
  authenticator?: Authenticator;
  bodyLimit?: number;
}

export function agentFaceRouters(o: FaceRouterOptions): Router[] {
  const deps = { policy: () => o.store.current(), approvals: o.approvals, namespaces: o.namespaces, decisions: o.decisions, metrics: o.metrics, log: o.log };
  return [
    authorizationRouter({ ...deps, grants: new ReadGrants() }),
    agentApiRouter({
      ...deps,
      ...(o.authenticator ? { authenticator: o.authenticator } : {}),
      ...(o.approvalStore ? { approvalStore: o.approvalStore } : {}),
      ...(o.bodyLimit ? { bodyLimit: o.bodyLimit } : {}),
    }),
  ];
}
