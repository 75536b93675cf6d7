// POST /v1/tool-calls:evaluate — may this agent run this tool call?

import { randomUUID } from 'node:crypto';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import type { Actor, ToolCallRequest } from '../../src/contract/index.js';
import { agentObservation } from '../../src/decide/agent.js';
import { decideToolCall } from '../../src/decide/toolcall.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeToolCallRequest } from '../../src/input/toolcall.js';
import type { GatewayContext } from '../context.js';
import type { Face } from '../face.js';
import { callerOf } from './auth.js';
import { objectBody } from './body.js';
import { type AgentAnswer, agentDeps, outcomeBody, sendAnswer } from './respond.js';

export function toolCallFace(ctx: GatewayContext): Face<{ request: ToolCallRequest; actor: Actor }, AgentAnswer> {
  const deps = agentDeps(ctx);
  return {
    name: 'toolcall',
    decode(req, res) {
      const body = objectBody(req.body);
      const request = decodeToolCallRequest(body);
      return { request, actor: callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS) };
    },
    async handle({ request, actor }) {
      const outcome = await decideToolCall(request, actor, deps);
      return {
        answer: { ...outcomeBody(outcome), tool: outcome.tool, edited: outcome.edited, ...(outcome.fix ? { fix: outcome.fix } : {}) },
        observation: agentObservation('toolcall', request.requestId ?? randomUUID(), outcome, { tool: request.tool.name, target: request.tool.target }),
      };
    },
    send: sendAnswer,
  };
}
