// POST /v1/prompts:check — secrets in a prompt before it leaves for the model.

import { randomUUID } from 'node:crypto';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import { agentObservation } from '../../src/decide/agent.js';
import { decidePrompt, type PromptRequest } from '../../src/decide/prompt.js';
import { BelayError } from '../../src/errors.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeContext, decodeRequestId } from '../../src/input/toolcall.js';
import type { GatewayContext } from '../context.js';
import type { Face } from '../face.js';
import { callerOf } from './auth.js';
import { objectBody } from './body.js';
import { type AgentAnswer, type AgentCall, agentDeps, crashedAgent, outcomeBody, recorded, sendAnswer } from './respond.js';

export function promptFace(ctx: GatewayContext): Face<AgentCall<PromptRequest>, AgentAnswer> {
  const deps = agentDeps(ctx);
  return {
    name: 'prompt',
    decode(req, res) {
      const body = objectBody(req.body);
      if (typeof body.text !== 'string') throw new BelayError('bad_request', '"text" is required and must be a string');
      const requestId = decodeRequestId(body);
      const request: PromptRequest = { text: body.text, context: decodeContext(body), ...(requestId ? { requestId } : {}) };
      const actor = callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS);
      return { request, actor, id: requestId ?? randomUUID() };
    },
    handle: (call) =>
      recorded('prompt', call, {}, async () => {
        const outcome = await decidePrompt(call.request, call.actor, deps);
        return {
          answer: { ...outcomeBody(outcome), findings: outcome.findings, redacted: outcome.redacted, scan: outcome.scan },
          observation: agentObservation('prompt', call.id, outcome, { findings: outcome.findings.map((f) => f.kind), scan: outcome.scan.status }),
        };
      }),
    crashed: (call, err) => crashedAgent('prompt', call, err, {}, { findings: [], redacted: null }),
    send: sendAnswer,
  };
}
