// POST /v1/tool-calls:evaluate — may this agent run this tool call?

import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import { decideToolCall, type GateApiDeps } from '../../src/decide/toolcall.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeToolCallRequest } from '../../src/input/toolcall.js';
import { callerOf } from './auth.js';
import { objectBody } from './body.js';
import { outcomeBody, type RecordDeps, record, send } from './respond.js';

export function toolCallHandler(deps: GateApiDeps & RecordDeps): RequestHandler {
  return async function evaluateToolCall(req, res, next) {
    const started = process.hrtime.bigint();
    try {
      const body = objectBody(req.body);
      const request = decodeToolCallRequest(body);
      const active = deps.policy();
      const actor = callerActor(callerOf(res), claimsFrom(body), active?.agents ?? NO_AGENTS);
      const outcome = await decideToolCall(request, actor, deps);
      send(res, { ...outcomeBody(outcome), tool: outcome.tool, edited: outcome.edited });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      record(deps, 'toolcall', request.requestId ?? randomUUID(), outcome, seconds, { tool: request.tool.name, target: request.tool.target });
    } catch (err) {
      next(err);
    }
  };
}
