// The trust report: per agent and workflow, how its requests fared — decided
// by policy, observed only, approved, rejected, expired — what became of its
// changes (Succeeded, Failed, Unknown; the success rate), and whether it shows
// the graduation signals of the trust ladder:
//   observe/selective → trusted: observed long enough, never would have been denied;
//   approve → automate: approved several times, never rejected, never denied,
//     and enough changes Succeeded with none Failed within the graduation window.
// A scope whose breaker tripped (automated changes failed in a row) is held
// at approve until a policy change acknowledges the trip.
// The recommendation comes with the data change that makes it
// (data.belay.config.trust), so promoting a workflow is a reviewed pull request.

import type { JsonObject } from '../contract/index.js';
import { serviceAccountOf } from '../identity/agents.js';
import { parseDuration } from '../util/duration.js';
import type { ApprovalEvidence, BreakerEvidence, DecisionEvidence, OutcomeEvidence } from './evidence.js';

export interface GraduationThresholds {
  /** Approvals without a rejection before approve → automate. */
  minApprovals: number;
  /** Observed-only decisions without a would-be deny before observe → trusted. */
  minObserved: number;
  /** Succeeded outcomes before approve → automate (policy data outcomes.graduation.minSucceeded). */
  minSucceeded: number;
  /** No Failed outcome may be younger than this (ms) for approve → automate (outcomes.graduation.window). */
  failureWindowMs: number;
}

export const DEFAULT_THRESHOLDS: GraduationThresholds = { minApprovals: 5, minObserved: 20, minSucceeded: 5, failureWindowMs: 720 * 3_600_000 };

/** Outcome evidence and the breakers, beside decisions and approvals. */
export interface OutcomeInputs {
  outcomes?: readonly OutcomeEvidence[];
  breakers?: readonly BreakerEvidence[];
  /** Trip ids policy data acknowledges (outcomes.breaker.acknowledged). */
  acknowledged?: readonly string[];
  now?: Date;
}

export interface TrustConfig {
  global?: string;
  agents?: Record<string, string>;
  namespaces?: Record<string, string>;
  workflows?: Record<string, string>;
  trusted?: { agents?: string[]; workflows?: string[]; namespaces?: Record<string, { workflows?: string[]; agents?: string[] }> };
  /** Who may claim a workflow the settings single out (policies/trust/trust.rego). */
  claimants?: Record<string, Claimants>;
}

export interface Claimants {
  serviceAccounts?: string[];
  users?: string[];
  groups?: string[];
}

export interface SubjectRow {
  agent: string;
  workflow: string;
  /**
   * Whether the workflow counts for this agent: `held` (listed in
   * trust.claimants, or a workflow nothing singles out), `not-held` (claimed
   * without being listed: an unknown workflow to policy), `none` (no workflow).
   */
  claim: 'held' | 'not-held' | 'none';
  /** The mode configured for this workflow or agent (namespace scopes are not resolved here). */
  mode: string;
  modeScope: 'workflow' | 'agent' | 'global' | 'default';
  trusted: boolean;
  decisions: number;
  allowed: number;
  denied: number;
  deferred: number;
  observedOnly: number;
  wouldDeny: number;
  wouldDefer: number;
  automated: number;
  approved: number;
  rejected: number;
  expired: number;
  pending: number;
  /** Outcomes of the agent's own changes (remedies belay proposed are not counted). */
  succeeded: number;
  failed: number;
  unknown: number;
  /** Failed within the graduation window. */
  recentFailed: number;
  /** succeeded / (succeeded + failed), null without either. */
  successRate: number | null;
  /** A tripped breaker that demotes this row's scope, when not acknowledged. */
  breaker: BreakerEvidence | null;
  lastSeen: string;
  recommendation: Recommendation;
}

export interface Recommendation {
  action: 'promote' | 'hold' | 'watch';
  /** The mode (or trust) it can move to. */
  to?: 'trusted' | 'automate';
  why: string;
}

export interface TrustReport {
  rows: SubjectRow[];
  /** The change to data.belay.config.trust that promotes every ready subject (empty when none). */
  dataChange: JsonObject;
  thresholds: GraduationThresholds;
  /** Breakers tripped and not acknowledged, and the data change that acknowledges each (after its cause is fixed). */
  breakers: { trip: BreakerEvidence; acknowledge: JsonObject }[];
}

const key = (agent: string, workflow: string) => `${agent}\u0000${workflow}`;

export function buildReport(
  decisions: readonly DecisionEvidence[],
  approvals: readonly ApprovalEvidence[],
  trust: TrustConfig = {},
  thresholds: GraduationThresholds = DEFAULT_THRESHOLDS,
  more: OutcomeInputs = {},
): TrustReport {
  const acknowledged = new Set(more.acknowledged ?? []);
  const now = (more.now ?? new Date()).getTime();
  const trips = latestTrips(more.breakers ?? [], acknowledged);
  const rows = new Map<string, SubjectRow>();
  // A claim the policy said did not hold, for any decision of the pair, marks the pair.
  const refused = new Set(decisions.filter((d) => d.claimHonored === false).map((d) => key(d.agent, d.workflow)));
  const row = (agent: string, workflow: string): SubjectRow => {
    let r = rows.get(key(agent, workflow));
    if (!r) {
      const claim = workflow === '' ? 'none' : refused.has(key(agent, workflow)) || !claimHolds(trust, agent, workflow) ? 'not-held' : 'held';
      // A claim that does not hold is an unknown workflow to policy: the agent's own scopes apply.
      const counted = claim === 'held' ? workflow : '';
      const { mode, scope } = modeFor(trust, agent, counted);
      r = {
        agent,
        workflow,
        claim,
        mode,
        modeScope: scope,
        trusted: isTrusted(trust, agent, counted),
        decisions: 0,
        allowed: 0,
        denied: 0,
        deferred: 0,
        observedOnly: 0,
        wouldDeny: 0,
        wouldDefer: 0,
        automated: 0,
        approved: 0,
        rejected: 0,
        expired: 0,
        pending: 0,
        succeeded: 0,
        failed: 0,
        unknown: 0,
        recentFailed: 0,
        successRate: null,
        breaker: breakerFor(trips, trust, agent, workflow),
        lastSeen: '',
        recommendation: { action: 'watch', why: '' },
      };
      rows.set(key(agent, workflow), r);
    }
    return r;
  };

  for (const d of decisions) {
    if (d.verdict === 'skip') continue;
    const r = row(d.agent, d.workflow);
    r.decisions++;
    if (d.time > r.lastSeen) r.lastSeen = d.time;
    if (d.decision === 'allow' && d.wouldBe && d.wouldBe !== 'allow') {
      if (d.mode === 'automate' && d.wouldBe === 'defer') r.automated++;
      else {
        r.observedOnly++;
        if (d.wouldBe === 'deny') r.wouldDeny++;
        else r.wouldDefer++;
      }
    } else if (d.verdict === 'deny' || d.verdict === 'error') r.denied++;
    else if (d.verdict === 'defer') r.deferred++;
    else r.allowed++;
  }
  for (const a of approvals) {
    const r = row(a.agent, a.workflow);
    if (a.created > r.lastSeen) r.lastSeen = a.created;
    if (a.phase === 'Approved' || a.phase === 'Consumed') r.approved++;
    else if (a.phase === 'Rejected') r.rejected++;
    else if (a.phase === 'Expired') r.expired++;
    else r.pending++;
  }
  const seen = new Set<string>();
  for (const o of more.outcomes ?? []) {
    if (o.remedy || o.result === 'Watching' || (o.id && seen.has(o.id))) continue;
    if (o.id) seen.add(o.id);
    const r = row(o.agent, o.workflow);
    if (o.finishedAt > r.lastSeen) r.lastSeen = o.finishedAt;
    if (o.result === 'Succeeded') r.succeeded++;
    else if (o.result === 'Failed') {
      r.failed++;
      const at = Date.parse(o.finishedAt);
      if (!Number.isFinite(at) || now - at <= thresholds.failureWindowMs) r.recentFailed++;
    } else r.unknown++;
  }
  for (const r of rows.values()) r.successRate = r.succeeded + r.failed > 0 ? r.succeeded / (r.succeeded + r.failed) : null;

  const dataChange: Change = { workflows: {}, agents: {}, trusted: { workflows: [], agents: [] }, claimants: {} };
  for (const r of rows.values()) {
    r.recommendation = recommend(r, thresholds);
    if (r.recommendation.action !== 'promote') continue;
    const byWorkflow = r.workflow !== '';
    // Promoting a workflow trusts it for the agent that earned it, and for nobody else.
    if (byWorkflow) claimFor(dataChange, r.workflow, r.agent);
    if (r.recommendation.to === 'automate') {
      if (byWorkflow) dataChange.workflows[r.workflow] = 'automate';
      else dataChange.agents[r.agent] = 'automate';
    } else if (byWorkflow) {
      if (!dataChange.trusted.workflows.includes(r.workflow)) dataChange.trusted.workflows.push(r.workflow);
    } else dataChange.trusted.agents.push(r.agent);
  }
  return {
    rows: [...rows.values()].sort((a, b) => a.agent.localeCompare(b.agent) || a.workflow.localeCompare(b.workflow)),
    dataChange: trustPatch(trust, dataChange),
    thresholds,
    breakers: [...trips.values()].map((trip) => ({
      trip,
      acknowledge: { belay: { config: { outcomes: { breaker: { acknowledged: [...new Set([...acknowledged, trip.id])].sort() } } } } },
    })),
  };
}

/** The newest trip per scope that policy data has not acknowledged. */
function latestTrips(breakers: readonly BreakerEvidence[], acknowledged: Set<string>): Map<string, BreakerEvidence> {
  const out = new Map<string, BreakerEvidence>();
  for (const b of breakers) {
    const prev = out.get(b.key);
    if (!prev || b.trippedAt > prev.trippedAt) out.set(b.key, b);
  }
  for (const [key, b] of [...out]) if (acknowledged.has(b.id)) out.delete(key);
  return out;
}

/** The trip that demotes a row: its workflow's, its agent's, or the global one (namespace scopes need a request). */
function breakerFor(trips: Map<string, BreakerEvidence>, trust: TrustConfig, agent: string, workflow: string): BreakerEvidence | null {
  const { scope } = modeFor(trust, agent, workflow);
  const key = scope === 'workflow' ? `workflow:${workflow}` : scope === 'agent' ? `agent:${agent}` : scope === 'global' ? 'global:' : '';
  return (key && trips.get(key)) || null;
}

export function recommend(r: SubjectRow, t: GraduationThresholds): Recommendation {
  if (r.claim === 'not-held') {
    return {
      action: 'hold',
      why: `claims workflow ${JSON.stringify(r.workflow)} without being listed for it in trust.claimants, so policy treats it as an unknown workflow: list it there only if it should act as that workflow`,
    };
  }
  if (r.breaker) {
    return {
      action: 'hold',
      why: `demoted to approve: ${r.breaker.failures} automated changes failed in a row (breaker ${r.breaker.id}); fix the cause, then acknowledge the trip in policy data`,
    };
  }
  if (r.rejected > 0) return { action: 'hold', why: `rejected ${r.rejected} time${r.rejected > 1 ? 's' : ''}: keep a human in the loop` };
  if (r.mode === 'automate') {
    return { action: 'watch', why: `already automated: ${r.succeeded} succeeded, ${r.failed} failed; the breaker demotes it after failures in a row` };
  }
  const observing = r.mode === 'observe' || (r.mode === 'selective' && !r.trusted);
  if (observing) {
    if (r.wouldDeny > 0) return { action: 'hold', why: `policy would have denied ${r.wouldDeny} request${r.wouldDeny > 1 ? 's' : ''} while observed` };
    if (r.observedOnly + r.allowed < t.minObserved)
      return { action: 'watch', why: `observed ${r.observedOnly + r.allowed} of ${t.minObserved} requests needed` };
    return { action: 'promote', to: 'trusted', why: `observed ${r.observedOnly + r.allowed} requests, none would have been denied` };
  }
  if (r.denied > 0) return { action: 'hold', why: `policy denied ${r.denied} request${r.denied > 1 ? 's' : ''}` };
  if (r.workflow === '' && r.approved > 0) return { action: 'watch', why: 'requests carry no workflow: promote workflows, not whole agents' };
  if (r.recentFailed > 0) {
    return {
      action: 'hold',
      why: `${r.recentFailed} change${r.recentFailed > 1 ? 's' : ''} failed within the last ${hours(t.failureWindowMs)}: keep a human in the loop`,
    };
  }
  if (r.approved < t.minApprovals) return { action: 'watch', why: `approved ${r.approved} of ${t.minApprovals} times needed, never rejected` };
  if (r.succeeded < t.minSucceeded) {
    return { action: 'watch', why: `approved ${r.approved} times, never rejected; ${r.succeeded} of ${t.minSucceeded} succeeded outcomes needed` };
  }
  return {
    action: 'promote',
    to: 'automate',
    why: `approved ${r.approved} times, never rejected${r.expired > 0 ? ` (${r.expired} expired unanswered)` : ''}; ${r.succeeded} changes succeeded, none failed in ${hours(t.failureWindowMs)}`,
  };
}

function hours(ms: number): string {
  return `${Math.round(ms / 3_600_000)}h`;
}

/** workflow > agent > global, as policies/trust resolves it (namespace scopes need a request, so are left out). */
function modeFor(trust: TrustConfig, agent: string, workflow: string): { mode: string; scope: SubjectRow['modeScope'] } {
  if (workflow && trust.workflows?.[workflow]) return { mode: trust.workflows[workflow]!, scope: 'workflow' };
  if (trust.agents?.[agent]) return { mode: trust.agents[agent]!, scope: 'agent' };
  if (trust.global) return { mode: trust.global, scope: 'global' };
  return { mode: 'approve', scope: 'default' };
}

function isTrusted(trust: TrustConfig, agent: string, workflow: string): boolean {
  return (workflow !== '' && (trust.trusted?.workflows ?? []).includes(workflow)) || (trust.trusted?.agents ?? []).includes(agent);
}

/** A workflow the settings single out: a mode of its own, or a trusted list that names it. */
function governed(trust: TrustConfig, workflow: string): boolean {
  return (
    trust.workflows?.[workflow] !== undefined ||
    (trust.trusted?.workflows ?? []).includes(workflow) ||
    Object.values(trust.trusted?.namespaces ?? {}).some((n) => (n.workflows ?? []).includes(workflow))
  );
}

/**
 * Whether `agent` may claim `workflow`, as policies/trust/trust.rego decides:
 * by username or service account here; a group claim shows in the decisions'
 * own `claim` (the report has no groups), so an unlisted agent counts as not held.
 */
function claimHolds(trust: TrustConfig, agent: string, workflow: string): boolean {
  if (!governed(trust, workflow)) return true;
  const c = trust.claimants?.[workflow];
  if (!c) return false;
  const sa = serviceAccountOf(agent);
  const refs = sa ? [`${sa.namespace}/${sa.name}`, `${sa.namespace}:${sa.name}`, agent] : [];
  return (c.users ?? []).includes(agent) || (c.serviceAccounts ?? []).some((e) => refs.includes(e));
}

interface Change {
  workflows: Record<string, string>;
  agents: Record<string, string>;
  trusted: { workflows: string[]; agents: string[] };
  claimants: Record<string, { serviceAccounts: string[]; users: string[] }>;
}

/** Lists `agent` as a claimant of `workflow` in the change (a service account as ns/name). */
function claimFor(change: Change, workflow: string, agent: string): void {
  change.claimants[workflow] ??= { serviceAccounts: [], users: [] };
  const entry = change.claimants[workflow]!;
  const sa = serviceAccountOf(agent);
  if (sa) entry.serviceAccounts.push(`${sa.namespace}/${sa.name}`);
  else entry.users.push(agent);
}

/** The change as a patch of policies/data.json: only the keys that change, lists given whole. */
function trustPatch(trust: TrustConfig, change: Change): JsonObject {
  const out: JsonObject = {};
  if (Object.keys(change.workflows).length > 0) out.workflows = change.workflows;
  if (Object.keys(change.agents).length > 0) out.agents = change.agents;
  const claimants: JsonObject = {};
  for (const [wf, add] of Object.entries(change.claimants)) {
    const had = trust.claimants?.[wf] ?? {};
    const merged = (have: string[] | undefined, more: string[]) => [...new Set([...(have ?? []), ...more])].sort();
    const entry: JsonObject = { ...(had as JsonObject) };
    if (add.serviceAccounts.length > 0) entry.serviceAccounts = merged(had.serviceAccounts, add.serviceAccounts);
    if (add.users.length > 0) entry.users = merged(had.users, add.users);
    claimants[wf] = entry;
  }
  if (Object.keys(claimants).length > 0) out.claimants = claimants;
  const trusted: JsonObject = {};
  if (change.trusted.workflows.length > 0) trusted.workflows = [...new Set([...(trust.trusted?.workflows ?? []), ...change.trusted.workflows])].sort();
  if (change.trusted.agents.length > 0) trusted.agents = [...new Set([...(trust.trusted?.agents ?? []), ...change.trusted.agents])].sort();
  if (Object.keys(trusted).length > 0) out.trusted = trusted;
  return Object.keys(out).length > 0 ? { belay: { config: { trust: out } } } : {};
}

/** Graduation thresholds and acknowledged trips from bundle data (data.belay.config.outcomes), over the defaults. */
export function outcomeSettingsFrom(data: JsonObject): { minSucceeded: number; failureWindowMs: number; acknowledged: string[] } {
  const config = (data.belay as JsonObject | undefined)?.config as JsonObject | undefined;
  const outcomes = (config?.outcomes ?? {}) as JsonObject;
  const graduation = (outcomes.graduation ?? {}) as JsonObject;
  const breaker = (outcomes.breaker ?? {}) as JsonObject;
  const n = graduation.minSucceeded;
  let failureWindowMs = DEFAULT_THRESHOLDS.failureWindowMs;
  if (typeof graduation.window === 'string') {
    try {
      failureWindowMs = parseDuration(graduation.window);
    } catch {
      // a window written wrong keeps the default
    }
  }
  return {
    minSucceeded: typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : DEFAULT_THRESHOLDS.minSucceeded,
    failureWindowMs,
    acknowledged: Array.isArray(breaker.acknowledged) ? breaker.acknowledged.filter((x): x is string => typeof x === 'string') : [],
  };
}

/** data.belay.config.trust from bundle data (or a policies/data.json). */
export function trustConfigFrom(data: JsonObject): TrustConfig {
  const config = (data.belay as JsonObject | undefined)?.config as JsonObject | undefined;
  const t = config?.trust;
  return typeof t === 'object' && t !== null && !Array.isArray(t) ? (t as TrustConfig) : {};
}
