// The authorization decision for the API server's authorization webhook,
// free of HTTP. Only agents' resource requests are judged; everyone else gets
// no opinion without evaluation, so RBAC decides for them.
//
// belay restricts and never grants: a policy `allow` (or an approved read) is
// "no opinion" too, so an approval can never give an agent a read its RBAC
// does not allow. `deny`, and a `defer` that is not approved yet, deny.
// An approved read stays allowed for a short window (data
// belay.config.authorization.readWindow, default 5m), because one `kubectl
// get` is several requests and an agent retries. The window is counted from
// the use recorded on the ApprovalRequest, so every replica (and a restarted
// one) agrees; a few seconds' cache keeps a burst of reads off the store.
//
// Never throws: every failure is an outcome (denied for agents, fail closed).

import { randomUUID } from 'node:crypto';
import { requestKeys } from '../approvals/fingerprint.js';
import type { ApprovalGate, Caller } from '../approvals/gate.js';
import type { ActivePolicy } from '../bundle/active.js';
import type { Decision, JsonObject, PolicyInput } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import { type AgentSelector, isAgent } from '../identity/agents.js';
import { authorizationInput, type SubjectAccessReviewSpec } from '../input/authorization.js';
import type { NamespaceDirectory } from '../namespaces/directory.js';
import { decisionObservation, type Observation, requestSummary } from '../observe/observe.js';
import { type OutcomeHooks, withOutcomes } from '../outcomes/seam.js';
import { parseDuration } from '../util/duration.js';
import { deferMessage, denialMessage, failClosedMessage } from './messages.js';

export const DEFAULT_READ_WINDOW_MS = 5 * 60_000;

export interface AuthorizationStatus {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

export interface AuthorizationOutcome {
  status: AuthorizationStatus;
  /** skip: not an agent or not a resource request; approved: inside an approved read window. */
  verdict: 'skip' | 'allow' | 'deny' | 'defer' | 'approved' | 'error';
  rules: string[];
  revision: string;
  input?: PolicyInput;
  decision?: Decision;
  approvalId?: string | null;
}

export interface AuthorizationDeps {
  policy: () => ActivePolicy | undefined;
  approvals: ApprovalGate;
  namespaces: NamespaceDirectory;
  grants: ReadGrants;
  now?: () => number;
  /** Who is an agent while no bundle is active (the gateway's configuration). */
  agentsBeforeBundle?: AgentSelector;
  /** What policy knows of outcomes (tripped breakers). */
  outcomes?: OutcomeHooks;
}

/** No opinion: the next authorizer (RBAC) decides. */
const NO_OPINION: AuthorizationStatus = { allowed: false, denied: false };

export async function decideAuthorization(
  spec: SubjectAccessReviewSpec,
  deps: AuthorizationDeps,
  caller: Caller = 'unverified',
): Promise<AuthorizationOutcome> {
  const active = deps.policy();
  const user = { username: spec.user ?? '', groups: spec.groups ?? [], extra: spec.extra ?? {} };
  if (!active) {
    const agents = deps.agentsBeforeBundle;
    // Without a selector nobody can be told apart: no opinion with the error, the API server's failurePolicy decides.
    if (!agents)
      return { status: { allowed: false, denied: false, evaluationError: 'belay has no active policy bundle yet' }, verdict: 'error', rules: [], revision: '' };
    if (!spec.resourceAttributes || !isAgent(agents, user)) return { status: NO_OPINION, verdict: 'skip', rules: [], revision: '' };
    const reason = 'belay: no active policy bundle yet, so reads by agents are refused (fail closed); retry shortly';
    return {
      status: { allowed: false, denied: true, reason, evaluationError: 'belay has no active policy bundle yet' },
      verdict: 'error',
      rules: [],
      revision: '',
    };
  }
  const revision = active.revision;
  if (!spec.resourceAttributes || !isAgent(active.agents, user)) {
    return { status: NO_OPINION, verdict: 'skip', rules: [], revision };
  }

  const input = withOutcomes(authorizationInput(spec, active.agents, deps.namespaces.lookup(spec.resourceAttributes.namespace ?? '')), deps.outcomes);
  try {
    const { decision } = await active.evaluator.evaluate('authorization', input, { requester: input.actor.username });
    return await settle(input, decision, active, deps, caller);
  } catch (err) {
    const message = asBelayError(err).message;
    return {
      status: { allowed: false, denied: true, reason: failClosedMessage(message), evaluationError: message },
      verdict: 'error',
      rules: [],
      revision,
      input,
    };
  }
}

async function settle(input: PolicyInput, decision: Decision, active: ActivePolicy, deps: AuthorizationDeps, caller: Caller): Promise<AuthorizationOutcome> {
  const now = (deps.now ?? Date.now)();
  const base = { input, decision, revision: active.revision, rules: decision.reasons.map((r) => r.rule) };
  if (decision.decision === 'allow') return { ...base, status: NO_OPINION, verdict: 'allow' };
  if (decision.decision === 'deny') {
    return { ...base, status: { allowed: false, denied: true, reason: `belay: ${denialMessage(decision.reasons, 'denied by policy')}` }, verdict: 'deny' };
  }

  const key = requestKeys(input).fingerprint;
  const grant = deps.grants.lookup(key, now);
  if (grant) return { ...base, status: NO_OPINION, verdict: 'approved', approvalId: grant.approvalId };

  // Each call is its own request: the first after an approval uses it, and
  // the same read is allowed again until the window after that use ends.
  const windowMs = readWindowMs(active.data);
  const gate = await deps.approvals.resolve({
    input,
    decision,
    revision: active.revision,
    bundleDigest: active.digest,
    requestUid: `sar-${randomUUID()}`,
    caller,
    dryRun: false,
    windowMs,
  });
  if (gate.kind === 'approved') {
    // A gate that keeps no record of windows has just used the approval: the window starts now.
    const until = gate.until ? Date.parse(gate.until) : now + windowMs;
    deps.grants.grant(key, gate.approvalId, until, now);
    return { ...base, status: NO_OPINION, verdict: 'approved', approvalId: gate.approvalId };
  }
  const reason = gate.kind === 'rejected' ? `belay: ${gate.message}` : `belay: ${deferMessage(decision, gate.message)}`;
  return { ...base, status: { allowed: false, denied: true, reason }, verdict: 'defer', approvalId: gate.approvalId };
}

/** What a crash while deciding becomes: the agent's read is refused (fail closed). */
export function crashedAuthorization(error: string): AuthorizationOutcome {
  return {
    status: { allowed: false, denied: true, reason: `belay failed internally and refuses this agent request (fail closed): ${error}`, evaluationError: error },
    verdict: 'error',
    rules: [],
    revision: '',
  };
}

/** An authorization outcome, for metrics, the log and the decision log. */
export function authorizationObservation(spec: SubjectAccessReviewSpec, outcome: AuthorizationOutcome): Observation {
  const ra = spec.resourceAttributes ?? {};
  const asked = () => ({
    actor: { username: spec.user ?? '', groups: spec.groups ?? [], agent: true },
    request: requestSummary({
      operation: (ra.verb ?? '').toUpperCase(),
      group: ra.group ?? '',
      namespace: ra.namespace ?? '',
      name: ra.name ?? '',
      subresource: ra.subresource ?? '',
    }),
  });
  // A skip is only counted: no id to make for it.
  const id = outcome.verdict === 'skip' ? '' : `sar-${randomUUID()}`;
  return decisionObservation('authorization', id, outcome, asked, outcome.status.denied ? (outcome.status.reason ?? 'denied') : 'no opinion');
}

/** data.belay.config.authorization.readWindow, a Go duration; malformed or absent means the default. */
export function readWindowMs(data: JsonObject): number {
  const config = (data.belay as JsonObject | undefined)?.config as JsonObject | undefined;
  const window = (config?.authorization as JsonObject | undefined)?.readWindow;
  if (typeof window !== 'string') return DEFAULT_READ_WINDOW_MS;
  try {
    return parseDuration(window);
  } catch {
    return DEFAULT_READ_WINDOW_MS;
  }
}

export interface ReadGrantsOptions {
  /** Entries kept at most; the oldest go first. */
  max?: number;
  /**
   * How long a window read from the approval store is trusted without
   * asking again. Short: the store is the truth (another replica, an
   * approval deleted to revoke it), this only spares it a burst of reads.
   */
  maxAgeMs?: number;
}

export const DEFAULT_GRANT_MAX_AGE_MS = 5_000;

/**
 * A cache of approved read windows, by request fingerprint. Each entry lasts
 * until its window ends or `maxAgeMs` has passed, whichever is first; after
 * that the next read asks the approval store again.
 */
export class ReadGrants {
  readonly #grants = new Map<string, { approvalId: string; until: number }>();
  readonly #max: number;
  readonly #maxAgeMs: number;

  constructor({ max = 10_000, maxAgeMs = DEFAULT_GRANT_MAX_AGE_MS }: ReadGrantsOptions = {}) {
    this.#max = max;
    this.#maxAgeMs = maxAgeMs;
  }

  /** Caches a window that ends at `until` (ms since the epoch), as seen at `now`. */
  grant(key: string, approvalId: string, until: number, now: number = Date.now()): void {
    const end = Math.min(until, now + this.#maxAgeMs);
    if (!(end > now)) return;
    if (this.#grants.size >= this.#max) this.#sweep(now);
    if (this.#grants.size >= this.#max) this.#grants.delete(this.#grants.keys().next().value as string);
    this.#grants.set(key, { approvalId, until: end });
  }

  lookup(key: string, now: number): { approvalId: string; until: number } | undefined {
    const g = this.#grants.get(key);
    if (!g) return undefined;
    if (now >= g.until) {
      this.#grants.delete(key);
      return undefined;
    }
    return g;
  }

  #sweep(now: number): void {
    for (const [k, g] of this.#grants) if (now >= g.until) this.#grants.delete(k);
  }
}
