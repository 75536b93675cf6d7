// What every agent API answer is made of: the JSON body of an outcome, the
// approval's URL, and how it is sent (never cached).

import type { Response } from 'express';
import type { Actor, Face as PolicyFace } from '../../src/contract/index.js';
import { type AgentDeps, type AgentOutcome, agentObservation, failedOutcome } from '../../src/decide/agent.js';
import { asBelayError, BelayError } from '../../src/errors.js';
import { activePolicy, type GatewayContext } from '../context.js';
import { type Handled, sendJson } from '../face.js';

/** The JSON body of an agent API answer. */
export type AgentAnswer = Record<string, unknown>;

export function agentDeps(ctx: GatewayContext): AgentDeps {
  return {
    policy: activePolicy(ctx),
    approvals: ctx.approvals,
    namespaces: ctx.namespaces,
    ...(ctx.outcomes ? { outcomes: ctx.outcomes } : {}),
    ...(ctx.scanTimeoutMs !== undefined ? { scanTimeoutMs: ctx.scanTimeoutMs } : {}),
    ...(ctx.images ? { images: ctx.images } : {}),
  };
}

/** The fields every agent API answer has. */
export function outcomeBody(outcome: AgentOutcome): AgentAnswer {
  return {
    decision: outcome.decision,
    ...(outcome.message ? { message: outcome.message } : {}),
    reasons: outcome.reasons,
    warnings: outcome.warnings,
    mode: outcome.mode,
    wouldBe: outcome.wouldBe,
    approval: outcome.approval ? { ...outcome.approval, ...(outcome.approval.id ? { url: approvalUrl(outcome.approval.id) } : {}) } : null,
    revision: outcome.revision,
    ...(outcome.error ? { error: outcome.error } : {}),
  };
}

export function approvalUrl(id: string): string {
  return `/v1/approvals/${id.split('/').map(encodeURIComponent).join('/')}`;
}

/** Decisions depend on approvals that change any moment: never cached. */
export function sendAnswer(res: Response, body: AgentAnswer): void {
  sendJson(res, body, { noStore: true });
}

/** What every agent API face decodes: the request, who asks, and the id it is recorded under. */
export interface AgentCall<R> {
  readonly request: R;
  readonly actor: Actor;
  readonly id: string;
}

/** Refusals of what the caller sent, not decisions: answered, never recorded. */
const INPUT_ERRORS = new Set(['bad_request', 'payload_too_large', 'unsupported_media_type']);

/**
 * Runs a face's decision so that every answer an agent gets is on record:
 * a refusal of a well-formed request (no bundle yet: 503; a conflict: 409) is
 * recorded as an error, like a crash, which becomes a fail-closed deny in the
 * protocol. Malformed input (a result that is not JSON) is refused, not decided.
 */
export async function recorded<R>(
  face: PolicyFace,
  call: AgentCall<R>,
  details: Record<string, unknown>,
  decide: () => Promise<Handled<AgentAnswer>>,
): Promise<Handled<AgentAnswer>> {
  try {
    return await decide();
  } catch (err) {
    if (!(err instanceof BelayError) || err.code === 'internal' || INPUT_ERRORS.has(err.code)) throw err;
    return { error: err, observation: agentObservation(face, call.id, failedOutcome(err, ''), details, call.actor) };
  }
}

/** A crash while deciding: a deny that says belay failed (fail closed), on record. */
export function crashedAgent<R>(
  face: PolicyFace,
  call: AgentCall<R>,
  err: unknown,
  details: Record<string, unknown>,
  extra: AgentAnswer = {},
): Handled<AgentAnswer> {
  const outcome = failedOutcome(asBelayError(err), '');
  return { answer: { ...outcomeBody(outcome), ...extra }, observation: agentObservation(face, call.id, outcome, details, call.actor) };
}
