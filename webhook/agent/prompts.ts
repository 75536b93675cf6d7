// POST /v1/prompts:check — secrets in a prompt before it leaves for the model.

import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import { decidePrompt } from '../../src/decide/prompt.js';
import type { GateApiDeps } from '../../src/decide/toolcall.js';
import { BelayError } from '../../src/errors.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeContext, decodeRequestId } from '../../src/input/toolcall.js';
import { callerOf } from './auth.js';
import { objectBody } from './body.js';
import { outcomeBody, type RecordDeps, record, send } from './respond.js';

export function promptHandler(deps: GateApiDeps & RecordDeps): RequestHandler {
  return async function checkPrompt(req, res, next) {
    const started = process.hrtime.bigint();
    try {
      const body = objectBody(req.body);
      if (typeof body.text !== 'string') throw new BelayError('bad_request', '"text" is required and must be a string');
      const requestId = decodeRequestId(body);
      const actor = callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS);
      const outcome = await decidePrompt({ text: body.text, context: decodeContext(body), ...(requestId ? { requestId } : {}) }, actor, deps);
      send(res, { ...outcomeBody(outcome), findings: outcome.findings, redacted: outcome.redacted });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      record(deps, 'prompt', requestId ?? randomUUID(), outcome, seconds, { findings: outcome.findings.map((f) => f.kind) });
    } catch (err) {
      next(err);
    }
  };
}
