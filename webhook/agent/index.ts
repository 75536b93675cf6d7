// The agent gate API for MCP hosts and agent frameworks. Every route needs a
// bearer token. Routes with a colon (Google API style custom methods) escape
// it: path-to-regexp v8 reads ":evaluate" as a parameter otherwise.

import { Router } from 'express';
import type { Authenticator } from '../../src/auth/authenticator.js';
import type { GateApiDeps } from '../../src/decide/toolcall.js';
import { DEFAULT_BODY_LIMIT, jsonBody } from '../body.js';
import { type ApprovalReader, approvalHandler } from './approvals.js';
import { requireBearer } from './auth.js';
import { promptHandler } from './prompts.js';
import type { RecordDeps } from './respond.js';
import { toolCallHandler } from './toolcalls.js';
import { toolResultHandler } from './toolresults.js';

export type { ApprovalReader } from './approvals.js';

export interface AgentApiOptions extends GateApiDeps, RecordDeps {
  authenticator?: Authenticator;
  approvalStore?: ApprovalReader;
  bodyLimit?: number;
  maxWaitMs?: number;
  pollIntervalMs?: number;
}

export const AGENT_API_ROUTES = {
  toolCalls: '/v1/tool-calls\\:evaluate',
  toolResults: '/v1/tool-results\\:redact',
  prompts: '/v1/prompts\\:check',
  approval: '/v1/approvals/:id',
  approvalNamespaced: '/v1/approvals/:namespace/:name',
} as const;

export function agentApiRouter(options: AgentApiOptions): Router {
  const router = Router();
  const auth = requireBearer(options.authenticator);
  // Authenticate before reading a body: an anonymous caller cannot make the gateway parse megabytes.
  const body = jsonBody(options.bodyLimit ?? DEFAULT_BODY_LIMIT);
  router.post(AGENT_API_ROUTES.toolCalls, auth, ...body, toolCallHandler(options));
  router.post(AGENT_API_ROUTES.toolResults, auth, ...body, toolResultHandler(options));
  router.post(AGENT_API_ROUTES.prompts, auth, ...body, promptHandler(options));
  const approvals = approvalHandler({
    ...(options.approvalStore ? { store: options.approvalStore } : {}),
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
  });
  router.get(AGENT_API_ROUTES.approval, auth, approvals);
  router.get(AGENT_API_ROUTES.approvalNamespaced, auth, approvals);
  return router;
}
