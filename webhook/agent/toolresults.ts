// POST /v1/tool-results:redact — the tool result as the model may see it.

import { randomUUID } from 'node:crypto';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import { agentObservation } from '../../src/decide/agent.js';
import { decideToolResult, type ToolResultRequest } from '../../src/decide/toolresult.js';
import { BelayError } from '../../src/errors.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeContext, decodeRequestId, decodeTool } from '../../src/input/toolcall.js';
import type { GatewayContext } from '../context.js';
import type { Face } from '../face.js';
import { callerOf } from './auth.js';
import { checkNestedText, objectBody } from './body.js';
import { type AgentAnswer, type AgentCall, agentDeps, crashedAgent, outcomeBody, recorded, sendAnswer } from './respond.js';

export function toolResultFace(ctx: GatewayContext): Face<AgentCall<ToolResultRequest>, AgentAnswer> {
  const deps = { ...agentDeps(ctx), ...(ctx.approvalStore ? { approvalStore: ctx.approvalStore } : {}) };
  return {
    name: 'toolresult',
    decode(req, res) {
      const body = objectBody(req.body);
      if (body.result === undefined || body.result === null) {
        throw new BelayError('bad_request', '"result" is required: the tool result as JSON or YAML text, or as a JSON value');
      }
      if (body.format !== undefined && body.format !== 'json' && body.format !== 'yaml') {
        throw new BelayError('bad_request', '"format" must be "json" or "yaml" (or absent to detect it)');
      }
      if (body.approvalId !== undefined && (typeof body.approvalId !== 'string' || body.approvalId === '' || body.approvalId.length > 320)) {
        throw new BelayError('bad_request', '"approvalId" must be the tool call\'s approval id ("namespace/name")');
      }
      checkNestedText(body.result, 'result', ctx.bodyShape?.maxDepth);
      const requestId = decodeRequestId(body);
      const request: ToolResultRequest = {
        tool: decodeTool(body)!,
        result: body.result,
        ...(body.format ? { format: body.format as 'json' | 'yaml' } : {}),
        context: decodeContext(body),
        ...(requestId ? { requestId } : {}),
        ...(body.approvalId ? { approvalId: body.approvalId as string } : {}),
      };
      const actor = callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS);
      return { request, actor, id: requestId ?? randomUUID() };
    },
    handle: (call) =>
      recorded('toolresult', call, { tool: call.request.tool.name }, async () => {
        const outcome = await decideToolResult(call.request, call.actor, deps);
        return {
          answer: { ...outcomeBody(outcome), result: outcome.result, format: outcome.format, redactions: outcome.redactions },
          observation: agentObservation('toolresult', call.id, outcome, { tool: call.request.tool.name, redactions: outcome.redactions.length }),
        };
      }),
    // Nothing of the result is handed back when belay could not decide on it.
    crashed: (call, err) => crashedAgent('toolresult', call, err, { tool: call.request.tool.name }, { result: null, redactions: [] }),
    send: sendAnswer,
  };
}
