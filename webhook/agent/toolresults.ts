// POST /v1/tool-results:redact — the tool result as the model may see it.

import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { callerActor, claimsFrom } from '../../src/auth/caller.js';
import { decideToolResult, type ToolResultDeps } from '../../src/decide/toolresult.js';
import { BelayError } from '../../src/errors.js';
import { NO_AGENTS } from '../../src/identity/agents.js';
import { decodeContext, decodeRequestId, decodeTool } from '../../src/input/toolcall.js';
import { callerOf } from './auth.js';
import { objectBody } from './body.js';
import { outcomeBody, type RecordDeps, record, send } from './respond.js';

export function toolResultHandler(deps: ToolResultDeps & RecordDeps): RequestHandler {
  return async function redactToolResult(req, res, next) {
    const started = process.hrtime.bigint();
    try {
      const body = objectBody(req.body);
      if (body.result === undefined || body.result === null)
        throw new BelayError('bad_request', '"result" is required: the tool result as JSON or YAML text, or as a JSON value');
      if (body.format !== undefined && body.format !== 'json' && body.format !== 'yaml')
        throw new BelayError('bad_request', '"format" must be "json" or "yaml" (or absent to detect it)');
      const tool = decodeTool(body)!;
      if (body.approvalId !== undefined && (typeof body.approvalId !== 'string' || body.approvalId === '' || body.approvalId.length > 320)) {
        throw new BelayError('bad_request', '"approvalId" must be the tool call\'s approval id ("namespace/name")');
      }
      const requestId = decodeRequestId(body);
      const actor = callerActor(callerOf(res), claimsFrom(body), deps.policy()?.agents ?? NO_AGENTS);
      const outcome = await decideToolResult(
        {
          tool,
          result: body.result,
          ...(body.format ? { format: body.format as 'json' | 'yaml' } : {}),
          context: decodeContext(body),
          ...(requestId ? { requestId } : {}),
          ...(body.approvalId ? { approvalId: body.approvalId as string } : {}),
        },
        actor,
        deps,
      );
      send(res, { ...outcomeBody(outcome), result: outcome.result, format: outcome.format, redactions: outcome.redactions });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      record(deps, 'toolresult', requestId ?? randomUUID(), outcome, seconds, { tool: tool.name, redactions: outcome.redactions.length });
    } catch (err) {
      next(err);
    }
  };
}
