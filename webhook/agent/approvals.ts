// GET /v1/approvals/{id} — where a deferred call stands, the approver's edit
// once decided, and what became of the change once it was admitted
// (`outcome`: Watching, then Succeeded, Failed or Unknown, with a proposed
// remedy when it failed). `?wait=30s` long-polls: the answer comes when the
// phase differs from `?phase=` or the outcome's result from `?outcome=`
// (default: what they were at the time of the call), or when the wait is
// over, whichever is first. A tool call's arguments are shown as stored:
// redacted, with what was hidden and why; to run an approved call, retry it
// (POST /v1/tool-calls), whose answer carries the arguments to run with the
// agent's own values put back. A remedy belay proposed carries the object to
// apply (`object`).

import type { RequestHandler } from 'express';
import { applyArgumentsEdit } from '../../src/approvals/override.js';
import { type ApprovalPhase, type ApprovalRequest, DEFAULT_APPROVALS_NAMESPACE, isLapsed, PHASES, phaseOf } from '../../src/approvals/resource.js';
import type { ApprovalStore } from '../../src/approvals/store.js';
import type { AuthenticatedUser } from '../../src/auth/authenticator.js';
import type { JsonObject } from '../../src/contract/index.js';
import { BelayError } from '../../src/errors.js';
import { REDACTED, storedToolCall } from '../../src/redact/index.js';
import { parseDuration } from '../../src/util/duration.js';
import { callerOf } from './auth.js';
import { approvalUrl } from './respond.js';

/** What the handler needs from the approval store. */
export type ApprovalReader = Pick<ApprovalStore, 'get'>;

export interface ApprovalsHandlerOptions {
  store?: ApprovalReader;
  /** Longest long-poll; proxies commonly cut idle requests at 60s. */
  maxWaitMs?: number;
  pollIntervalMs?: number;
  now?: () => Date;
}

export function approvalHandler({ store, maxWaitMs = 55_000, pollIntervalMs = 500, now = () => new Date() }: ApprovalsHandlerOptions): RequestHandler {
  return async function getApproval(req, res, next) {
    try {
      if (!store) throw new BelayError('not_found', 'this gateway has no approval store configured');
      const user = callerOf(res);
      const { namespace, name } = parseId(req.params as Record<string, string | undefined>);
      const waitMs = waitOf(req.query.wait, maxWaitMs);
      let current = visible(await store.get(namespace, name), user);
      const since = phaseParam(req.query.phase) ?? viewPhase(current, now());
      const sinceOutcome = outcomeParam(req.query.outcome) ?? outcomeOf(current);
      const deadline = Date.now() + waitMs;
      let closed = false;
      res.on('close', () => (closed = true));
      while (viewPhase(current, now()) === since && outcomeOf(current) === sinceOutcome && Date.now() < deadline && !closed) {
        await new Promise((r) => setTimeout(r, Math.min(pollIntervalMs, Math.max(0, deadline - Date.now()))));
        current = visible(await store.get(namespace, name), user);
      }
      if (closed) return;
      res.set('Cache-Control', 'no-store').json(view(current, now()));
    } catch (err) {
      next(err);
    }
  };
}

/** "ns/name", or a bare name in the default approvals namespace. */
function parseId(params: Record<string, string | undefined>): { namespace: string; name: string } {
  const raw = params.namespace !== undefined ? `${params.namespace}/${params.name ?? ''}` : (params.id ?? '');
  const parts = raw.split('/');
  const [namespace, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [DEFAULT_APPROVALS_NAMESPACE, parts[0] ?? ''];
  if (parts.length > 2 || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace) || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
    throw new BelayError('bad_request', `approval id ${JSON.stringify(raw)} is not "<namespace>/<name>"`);
  }
  return { namespace, name };
}

function waitOf(raw: unknown, max: number): number {
  if (raw === undefined) return 0;
  if (typeof raw !== 'string') throw new BelayError('bad_request', '"wait" must be a duration such as 30s');
  return Math.min(parseDuration(raw), max);
}

function phaseParam(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !([...PHASES, 'Expired'] as string[]).includes(raw))
    throw new BelayError('bad_request', `"phase" must be one of ${PHASES.join(', ')}`);
  return raw;
}

const OUTCOMES = ['none', 'Watching', 'Succeeded', 'Failed', 'Unknown'];

function outcomeParam(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !OUTCOMES.includes(raw)) throw new BelayError('bad_request', `"outcome" must be one of ${OUTCOMES.join(', ')}`);
  return raw;
}

/** The outcome's result, or none before the change was admitted. */
function outcomeOf(r: ApprovalRequest): string {
  return r.status?.outcome?.result ?? 'none';
}

/** The requester and the approvers may read an approval; to anyone else it does not exist. */
function visible(r: ApprovalRequest | undefined, user: AuthenticatedUser): ApprovalRequest {
  const allowed = r && (r.spec.requester.user === user.username || r.spec.approverGroups.some((g) => user.groups.includes(g)));
  if (!r || !allowed) throw new BelayError('not_found', 'no such approval (or it is not yours to read)');
  return r;
}

/** A Pending or unused Approved request past its deadline reads as Expired even before the sweeper marks it. */
function viewPhase(r: ApprovalRequest, now: Date): ApprovalPhase {
  const phase = phaseOf(r);
  return (phase === 'Pending' || phase === 'Approved') && isLapsed(r, now) ? 'Expired' : phase;
}

function view(r: ApprovalRequest, now: Date): Record<string, unknown> {
  const id = `${r.metadata.namespace}/${r.metadata.name}`;
  const status = r.status ?? { phase: 'Pending' as const };
  const override = status.override ?? null;
  let args: JsonObject | null = override?.arguments ?? null;
  // Records are stored redacted; one written before that is redacted as it is shown.
  const tool = r.spec.tool ? storedToolCall(r.spec.tool) : null;
  if (!args && override?.patch && override.patch.length > 0 && r.spec.face === 'toolcall' && tool?.arguments) {
    const applied = applyArgumentsEdit(tool.arguments, override.patch);
    if (applied.ok) args = applied.object;
  }
  const shown = args ?? tool?.arguments ?? null;
  return {
    id,
    url: approvalUrl(id),
    phase: viewPhase(r, now),
    face: r.spec.face,
    requester: r.spec.requester,
    request: r.spec.request,
    ...(tool ? { tool } : {}),
    reasons: r.spec.reasons,
    risk: r.spec.risk,
    approverGroups: r.spec.approverGroups,
    requiredBy: r.spec.requiredBy,
    decidedBy: status.decidedBy ?? null,
    decidedAt: status.decidedAt ?? null,
    message: status.message ?? null,
    override,
    // The arguments once approved (the approver's edit, else the original) as stored: redacted.
    arguments: shown,
    // True when `arguments` hold a redacted value: run the call by retrying it, not with these.
    argumentsRedacted: shown !== null && JSON.stringify(shown).includes(REDACTED),
    edited: override !== null && (override.arguments !== undefined || (override.patch?.length ?? 0) > 0),
    // What became of the change once admitted (null until then).
    outcome: status.outcome ?? null,
    // A remedy belay proposed after a failure: what it remedies, and the object to apply once approved.
    ...(r.spec.remedy ? { remedy: r.spec.remedy, object: r.spec.object } : {}),
  };
}
