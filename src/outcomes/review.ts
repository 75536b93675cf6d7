// Who may write outcomes, enforced by belay's approvals webhook (the API
// server calls it for approvalrequests/status and for outcomes): only the
// gateway records what became of a change, on an ApprovalRequest
// (status.outcome) or as an Outcome record; a final result never changes;
// an agent may not touch Outcome records at all. Pure: no I/O.

import type { ApprovalStatus } from '../approvals/resource.js';
import { type AgentSelector, isAgent, type UserInfo } from '../identity/agents.js';
import { canonicalJson } from '../util/canonical.js';
import { isFinal, OUTCOME_GROUP, OUTCOME_PLURAL, type OutcomeRecord } from './resource.js';

export type Check = { ok: true } | { ok: false; message: string };
const OK: Check = { ok: true };
const no = (message: string): Check => ({ ok: false, message });

/** A change of an ApprovalRequest's status.outcome by `gateway` (the gateway itself) or anyone else. */
export function checkApprovalOutcome(before: ApprovalStatus, after: ApprovalStatus, gateway: boolean): Check {
  const a = before.outcome ?? null;
  const b = after.outcome ?? null;
  if (canonicalJson(a) === canonicalJson(b)) return OK;
  if (!gateway) return no('only the belay gateway records what became of an approved change (status.outcome)');
  if (b === null) return no('a recorded outcome is never removed');
  if (after.phase !== 'Consumed') return no(`an outcome belongs to an approval that was used (phase Consumed), not ${after.phase}`);
  if (a && isFinal(a.result) && a.record === b.record) return no(`the outcome of this change is final (${a.result}); it cannot change`);
  return OK;
}

export interface RecordReviewContext {
  gatewayUser: string | undefined;
  agents: AgentSelector;
}

/** Outcome records: created and updated by the gateway only; never touched by an agent. */
export function checkOutcomeRecordChange(
  operation: string,
  subresource: string,
  old: OutcomeRecord | undefined,
  next: OutcomeRecord | undefined,
  who: UserInfo,
  ctx: RecordReviewContext,
): Check {
  const user = who.username ?? '';
  const gateway = ctx.gatewayUser !== undefined && ctx.gatewayUser !== '' && user === ctx.gatewayUser;
  if (isAgent(ctx.agents, who)) return no(`${user} is an agent identity, and agents may not create, change or delete Outcome records`);
  if (operation === 'DELETE') return OK; // clean-up by people is fine; the decision log keeps the history
  if (!gateway) {
    if (!ctx.gatewayUser) return no('belay does not know its own identity (--gateway-user), so it cannot tell its own Outcome records from forged ones');
    return no(`Outcome records are written by the belay gateway (${ctx.gatewayUser}) when it watches a change, not by ${user || 'anyone else'}`);
  }
  if (operation === 'UPDATE' && old && next && subresource === 'status') {
    const was = old.status?.result;
    if (isFinal(was) && canonicalJson(old.status) !== canonicalJson(next.status)) return no(`this outcome is final (${was}); it cannot change`);
  }
  return OK;
}

export function isOutcomeResource(group: string, resource: string): boolean {
  return group === OUTCOME_GROUP && resource === OUTCOME_PLURAL;
}
