// POST /v1/tool-calls:evaluate — may this agent run this tool call?

import { randomUUID } from 'node:crypto';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import type { ToolCallRequest } from '../../src/contract/index.js';
import { agentObservation } from '../../src/decide/agent.js';
import { decideToolCall } from '../../src/decide/toolcall.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeToolCallRequest } from '../../src/input/toolcall.js';
import type { GatewayContext } from '../context.js';
import type { Face } from '../face.js';
import { callerOf } from './auth.js';
import { checkNestedText, objectBody } from './body.js';
import { type AgentAnswer, type AgentCall, agentDeps, crashedAgent, outcomeBody, recorded, sendAnswer } from './respond.js';

export function toolCallFace(ctx: GatewayContext): Face<AgentCall<ToolCallRequest>, AgentAnswer> {
  const deps = agentDeps(ctx);
  const details = (request: ToolCallRequest) => ({ tool: request.tool.name, target: request.tool.target });
  return {
    name: 'toolcall',
    decode(req, res) {
      const body = objectBody(req.body);
      const request = decodeToolCallRequest(body);
      checkNestedText(request.tool.arguments, 'tool.arguments', ctx.bodyShape?.maxDepth);
      const actor = callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS);
      return { request, actor, id: request.requestId ?? randomUUID() };
    },
    handle: (call) =>
      recorded('toolcall', call, details(call.request), async () => {
        const outcome = await decideToolCall(call.request, call.actor, deps);
        return {
          answer: { ...outcomeBody(outcome), tool: outcome.tool, edited: outcome.edited, ...(outcome.fix ? { fix: outcome.fix } : {}) },
          observation: agentObservation('toolcall', call.id, outcome, details(call.request)),
        };
      }),
    crashed: (call, err) => crashedAgent('toolcall', call, err, details(call.request), { tool: call.request.tool, edited: false }),
    send: sendAnswer,
  };
}
