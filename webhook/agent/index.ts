// The agent API for MCP hosts and agent frameworks: a tool call before it
// runs, a tool result before the model sees it, a prompt before it leaves,
// where a deferred call stands, and who a token belongs to (GET /v1/whoami).
// Every route needs a bearer token, checked before any body is read (an
// anonymous caller cannot make the gateway parse megabytes). Routes with a colon (Google API style custom methods) escape
// it: path-to-regexp v8 reads ":evaluate" as a parameter otherwise.

import { Router } from 'express';
import { jsonBody } from '../body.js';
import type { GatewayContext } from '../context.js';
import { sendJson, serveFace } from '../face.js';
import { approvalHandler } from './approvals.js';
import { callerOf, requireBearer } from './auth.js';
import { promptFace } from './prompts.js';
import { toolCallFace } from './toolcalls.js';
import { toolResultFace } from './toolresults.js';

export const AGENT_API_ROUTES = {
  toolCalls: '/v1/tool-calls\\:evaluate',
  toolResults: '/v1/tool-results\\:redact',
  prompts: '/v1/prompts\\:check',
  whoami: '/v1/whoami',
  approval: '/v1/approvals/:id',
  approvalNamespaced: '/v1/approvals/:namespace/:name',
} as const;

export function agentApiRoutes(ctx: GatewayContext): Router {
  const router = Router();
  const auth = requireBearer(ctx.agentTokens);
  const body = jsonBody(ctx.bodyLimit, ctx.bodyShape);
  router.post(AGENT_API_ROUTES.toolCalls, auth, ...body, serveFace(toolCallFace(ctx), ctx.instruments));
  router.post(AGENT_API_ROUTES.toolResults, auth, ...body, serveFace(toolResultFace(ctx), ctx.instruments));
  router.post(AGENT_API_ROUTES.prompts, auth, ...body, serveFace(promptFace(ctx), ctx.instruments));
  const approvals = approvalHandler({
    ...(ctx.approvalStore ? { store: ctx.approvalStore } : {}),
    ...(ctx.polling?.maxWaitMs !== undefined ? { maxWaitMs: ctx.polling.maxWaitMs } : {}),
    ...(ctx.polling?.intervalMs !== undefined ? { pollIntervalMs: ctx.polling.intervalMs } : {}),
  });
  router.get(AGENT_API_ROUTES.whoami, auth, function whoami(_req, res) {
    const user = callerOf(res);
    sendJson(res, { username: user.username, groups: user.groups }, { noStore: true });
  });
  router.get(AGENT_API_ROUTES.approval, auth, approvals);
  router.get(AGENT_API_ROUTES.approvalNamespaced, auth, approvals);
  return router;
}
