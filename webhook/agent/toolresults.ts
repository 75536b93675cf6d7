// POST /v1/tool-results:redact — the tool result as the model may see it:
// JSON or YAML text, plain text (logs, describe output), an MCP `content`
// array or a JSON value, with the secrets in it redacted.

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
        throw new BelayError('bad_request', '"result" is required: the tool result as text (JSON, YAML or plain), an MCP content array, or a JSON value');
      }
      if (body.format !== undefined && body.format !== 'json' && body.format !== 'yaml' && body.format !== 'text') {
        throw new BelayError('bad_request', '"format" must be "json", "yaml" or "text" (or absent to detect it)');
      }
      if (body.approvalId !== undefined && (typeof body.approvalId !== 'string' || body.approvalId === '' || body.approvalId.length > 320)) {
        throw new BelayError('bad_request', '"approvalId" must be the tool call\'s approval id ("namespace/name")');
      }
      checkNestedText(body.result, 'result', ctx.bodyShape?.maxDepth);
      const requestId = decodeRequestId(body);
      const request: ToolResultRequest = {
        tool: decodeTool(body)!,
        result: body.result,
        ...(body.format ? { format: body.format as 'json' | 'yaml' | 'text' } : {}),
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
          answer: {
            ...outcomeBody(outcome),
            result: outcome.result,
            format: outcome.format,
            redactions: outcome.redactions,
            withheld: outcome.withheld,
            scan: outcome.scan,
          },
          observation: agentObservation('toolresult', call.id, outcome, {
            tool: call.request.tool.name,
            redactions: outcome.redactions.length,
            scan: outcome.scan.status,
          }),
        };
      }),
    // Nothing of the result is handed back when belay could not decide on it.
    crashed: (call, err) => crashedAgent('toolresult', call, err, { tool: call.request.tool.name }, { result: null, redactions: [], withheld: true }),
    send: sendAnswer,
  };
}
