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
import type { ImageFactsSource } from '../src/images/source.js';
import type { NamespaceDirectory } from '../src/namespaces/directory.js';
import type { OutcomeHooks } from '../src/outcomes/seam.js';
import type { JsonShapeLimits } from '../src/util/json-shape.js';
import type { WebhookClients } from './client-cert.js';
import type { FaceInstruments } from './face.js';
import type { Readiness } from './readiness.js';

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
  /**
   * Who is an agent until a bundle is active (the gateway's --agents-file):
   * agents are refused then, everyone else passes untouched. Absent, nobody
   * can be told apart before a bundle, and admission refuses everyone.
   */
  readonly agentsBeforeBundle?: AgentSelector;
  /** Metrics, logs and the decision log: written by the face wrapper only. */
  readonly instruments: FaceInstruments;
  /**
   * Set when only the API server may call the admission, approvals and
   * authorization faces (its client certificate verified against a CA):
   * the names it may carry. Absent: every caller is unverified.
   */
  readonly webhookClients?: WebhookClients;
  /** Largest request body of the admission and agent faces. */
  readonly bodyLimit: number;
  /** How deep and how large in members a JSON body may be (every face); absent: DEFAULT_JSON_SHAPE. */
  readonly bodyShape?: JsonShapeLimits;
  /** The gateway's own username to the API server (its writes to approvals are told apart by it). */
  readonly gatewayUser?: string;
  /** Who an agent API bearer token belongs to; absent: the agent API answers 401. */
  readonly agentTokens?: Authenticator;
  /** How the console reaches approvals as the approver, and who an approver token belongs to. */
  readonly console: { readonly access?: ApprovalAccess; readonly approverTokens?: Authenticator };
  /** Time budget of the secret scan of one prompt or tool result (default: the scanner's, 2 s). */
  readonly scanTimeoutMs?: number;
  /** Image facts for fixes whose safety depends on the image, with their cache; absent: images stay unknown. */
  readonly images?: ImageFactsSource;
  /** What /readyz reports and requires beyond an active bundle (mode, RBAC, TLS, overlay); absent: the bundle alone. */
  readonly readiness?: Readiness;
  /** Outcome tracking (a cluster only): who records admitted changes, and what policy knows of outcomes. */
  readonly outcomes?: OutcomeHooks;
  /** Long polls (agent API, console): the longest wait and how often to look again. */
  readonly polling?: { readonly maxWaitMs?: number; readonly intervalMs?: number };
}

/** The active bundle, or undefined before the first activation. */
export function activePolicy(ctx: GatewayContext): () => ActivePolicy | undefined {
  return () => ctx.store.current();
}

/** A face's routes, mounted by the app the same way for every face. */
export type FaceRoutes = (ctx: GatewayContext) => Router;
