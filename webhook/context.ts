// What every face is built from: the gateway's running parts, assembled once
// (gateway.ts, or a test harness) and handed to each face's routes. A face
// takes what it needs from here and nothing from anywhere else.

import type { Router } from 'express';
import type { ApprovalGate } from '../src/approvals/gate.js';
import type { ApprovalStore } from '../src/approvals/store.js';
import type { Authenticator } from '../src/auth/authenticator.js';
import type { ActivePolicy, PolicyStore } from '../src/bundle/active.js';
import type { ApprovalAccess } from '../src/console/access.js';
import type { AgentSelector } from '../src/identity/agents.js';
import type { NamespaceDirectory } from '../src/namespaces/directory.js';
import type { FaceInstruments } from './face.js';

export interface GatewayContext {
  /** The bundles: the active one, and what /readyz reports. */
  readonly store: PolicyStore;
  /** Where deferred requests go to be approved. */
  readonly approvals: ApprovalGate;
  /** The approval records, for the agent API to read; absent when the gateway keeps none. */
  readonly approvalStore?: Pick<ApprovalStore, 'get'>;
  readonly namespaces: NamespaceDirectory;
  /** Who is an agent, as of the active bundle (nobody before one is active). */
  readonly agents: () => AgentSelector;
  /** Metrics, logs and the decision log: written by the face wrapper only. */
  readonly instruments: FaceInstruments;
  /** Largest request body of the admission and agent faces. */
  readonly bodyLimit: number;
  /** The gateway's own username to the API server (its writes to approvals are told apart by it). */
  readonly gatewayUser?: string;
  /** Who an agent API bearer token belongs to; absent: the agent API answers 401. */
  readonly agentTokens?: Authenticator;
  /** How the console reaches approvals as the approver, and who an approver token belongs to. */
  readonly console: { readonly access?: ApprovalAccess; readonly approverTokens?: Authenticator };
  /** Time budget of the secret scan of one prompt or tool result (default: the scanner's, 2 s). */
  readonly scanTimeoutMs?: number;
  /** Long polls (agent API, console): the longest wait and how often to look again. */
  readonly polling?: { readonly maxWaitMs?: number; readonly intervalMs?: number };
  /** More for /readyz to report, without changing readiness (notifications' channels). */
  readonly readiness?: () => Record<string, unknown>;
}

/** The active bundle, or undefined before the first activation. */
export function activePolicy(ctx: GatewayContext): () => ActivePolicy | undefined {
  return () => ctx.store.current();
}

/** A face's routes, mounted by the app the same way for every face. */
export type FaceRoutes = (ctx: GatewayContext) => Router;
