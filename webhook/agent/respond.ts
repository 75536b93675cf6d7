// What every agent API answer is made of: the JSON body of an outcome, the
// approval's URL, and how it is sent (never cached).

import type { Response } from 'express';
import type { AgentDeps, AgentOutcome } from '../../src/decide/agent.js';
import { activePolicy, type GatewayContext } from '../context.js';
import { sendJson } from '../face.js';

/** The JSON body of an agent API answer. */
export type AgentAnswer = Record<string, unknown>;

export function agentDeps(ctx: GatewayContext): AgentDeps {
  return { policy: activePolicy(ctx), approvals: ctx.approvals, namespaces: ctx.namespaces, ...(ctx.outcomes ? { outcomes: ctx.outcomes } : {}) };
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
