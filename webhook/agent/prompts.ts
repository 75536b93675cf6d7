// POST /v1/prompts:check — secrets in a prompt before it leaves for the model.

import { randomUUID } from 'node:crypto';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import type { Actor } from '../../src/contract/index.js';
import { agentObservation } from '../../src/decide/agent.js';
import { decidePrompt, type PromptRequest } from '../../src/decide/prompt.js';
import { BelayError } from '../../src/errors.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeContext, decodeRequestId } from '../../src/input/toolcall.js';
import type { GatewayContext } from '../context.js';
import type { Face } from '../face.js';
import { callerOf } from './auth.js';
import { objectBody } from './body.js';
import { type AgentAnswer, agentDeps, outcomeBody, sendAnswer } from './respond.js';

export function promptFace(ctx: GatewayContext): Face<{ request: PromptRequest; actor: Actor }, AgentAnswer> {
  const deps = agentDeps(ctx);
  return {
    name: 'prompt',
    decode(req, res) {
      const body = objectBody(req.body);
      if (typeof body.text !== 'string') throw new BelayError('bad_request', '"text" is required and must be a string');
      const requestId = decodeRequestId(body);
      const request: PromptRequest = { text: body.text, context: decodeContext(body), ...(requestId ? { requestId } : {}) };
      return { request, actor: callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS) };
    },
    async handle({ request, actor }) {
      const outcome = await decidePrompt(request, actor, deps);
      return {
        answer: { ...outcomeBody(outcome), findings: outcome.findings, redacted: outcome.redacted, scan: outcome.scan },
        observation: agentObservation('prompt', request.requestId ?? randomUUID(), outcome, {
          findings: outcome.findings.map((f) => f.kind),
          scan: outcome.scan.status,
        }),
      };
    },
    send: sendAnswer,
  };
}
