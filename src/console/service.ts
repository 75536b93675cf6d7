// The approvals console's operations, free of HTTP: list (optionally as a
// long poll that answers when the list changes), show one, and decide —
// always through the store as the approver sees it (access.ts), so the same
// rules judge a click in the console and `belay approvals approve`.

import { type ApprovalRequest, isNamespaceName, isObjectName } from '../approvals/resource.js';
import type { ApprovalStore } from '../approvals/store.js';
import { asBelayError, BelayError } from '../errors.js';
import type { AgentSelector } from '../identity/agents.js';
import type { ApprovalAccess } from './access.js';
import { parseDecisionRequest } from './decision.js';
import { type ApprovalDetail, type ApprovalSummary, consoleOrder, detail, effectivePhase, listVersion, summarize, type Viewer, visibleTo } from './view.js';

export interface ConsoleServiceOptions {
  access: ApprovalAccess;
  /** Who is an agent (the active bundle's selector): agents never decide, and the page says so. */
  agents: () => AgentSelector;
  now?: () => Date;
  /** How often a long poll looks at the store again. */
  pollIntervalMs?: number;
  /** Longest long poll; proxies commonly cut idle requests at 60s. */
  maxWaitMs?: number;
  /** Settled requests listed after the pending ones. */
  recentLimit?: number;
}

export interface ListQuery {
  namespace?: string;
  /** The version the caller has; with waitMs, answer only when the list differs (or the wait is over). */
  since?: string;
  waitMs?: number;
  signal?: AbortSignal;
}

export interface ApprovalList {
  version: string;
  /** The server's clock, so the page counts down deadlines without trusting the browser's. */
  now: string;
  mode: ApprovalAccess['mode'];
  pending: number;
  items: ApprovalSummary[];
}

/** What a refused decision carries in its error's details: the request the approver tried to decide. */
export interface RefusedDetails {
  refused: ApprovalRequest;
}

/** Who is calling, and the bearer token they called with (in a cluster, the credential every store call uses). */
export interface Caller {
  viewer: Viewer;
  token: string;
}

export class ConsoleService {
  #o: ConsoleServiceOptions;

  constructor(options: ConsoleServiceOptions) {
    this.#o = options;
  }

  get mode(): ApprovalAccess['mode'] {
    return this.#o.access.mode;
  }

  get maxWaitMs(): number {
    return this.#o.maxWaitMs ?? 25_000;
  }

  async list(caller: Caller, query: ListQuery = {}): Promise<ApprovalList> {
    if (query.namespace !== undefined && !isNamespaceName(query.namespace))
      throw new BelayError('bad_request', `${JSON.stringify(query.namespace)} is not a namespace name`);
    const store = this.#o.access.storeFor(caller.token);
    const deadline = Date.now() + Math.min(query.waitMs ?? 0, this.maxWaitMs);
    for (;;) {
      const now = this.#now();
      const shown = await this.#visible(store, caller.viewer, query.namespace, now);
      const version = listVersion(shown, now);
      const waitLeft = deadline - Date.now();
      if (query.since === undefined || version !== query.since || waitLeft <= 0 || query.signal?.aborted) {
        const agents = this.#o.agents();
        const items = shown.map((r) => summarize(r, now, caller.viewer, agents));
        return { version, now: now.toISOString(), mode: this.mode, pending: items.filter((i) => i.phase === 'Pending').length, items };
      }
      // Each look is a list call (in a cluster, to the API server as the approver): not too often.
      await sleep(Math.min(this.#o.pollIntervalMs ?? (this.mode === 'cluster' ? 2_000 : 1_000), waitLeft), query.signal);
    }
  }

  async get(caller: Caller, namespace: string, name: string): Promise<ApprovalDetail> {
    const store = this.#o.access.storeFor(caller.token);
    const r = await this.#find(store, caller.viewer, namespace, name);
    return detail(r, this.#now(), caller.viewer, this.#o.agents(), await this.#related(store, caller.viewer, namespace));
  }

  /**
   * Decides every request of one workflow run the caller names, one by one
   * through the same path as a single decision: each is checked for
   * separation of duties on its own, and one refusal stops none of the others.
   */
  async decideRun(caller: Caller, body: unknown): Promise<RunDecision> {
    const req = parseRunDecision(body);
    const results: RunDecision['results'] = [];
    for (const id of req.ids) {
      const [namespace = '', name = ''] = id.split('/');
      try {
        const store = this.#o.access.storeFor(caller.token);
        const current = await this.#find(store, caller.viewer, namespace, name);
        const ctx = current.spec.context ?? {};
        if (ctx.workflow !== req.workflow || (ctx.run ?? null) !== req.run) {
          throw new BelayError('bad_request', `${id} is not a request of workflow ${req.workflow}${req.run ? ` run ${req.run}` : ''}`);
        }
        const decided = await this.decide(caller, namespace, name, { action: req.action, ...(req.message ? { message: req.message } : {}) });
        results.push({ id, ok: true, phase: decided.phase });
      } catch (err) {
        const e = asBelayError(err);
        results.push({ id, ok: false, error: { code: e.code, message: e.message } });
      }
    }
    return { workflow: req.workflow, run: req.run, action: req.action, decided: results.filter((r) => r.ok).length, results };
  }

  /** Requests the viewer may see beside this one (its target's history, its workflow run); none when the store will not list them. */
  async #related(store: ApprovalStore, viewer: Viewer, namespace: string): Promise<ApprovalRequest[]> {
    let all: ApprovalRequest[];
    try {
      all = await store.list();
    } catch {
      try {
        all = await store.list(namespace);
      } catch {
        return [];
      }
    }
    return all.filter((r) => isRecord(r) && visibleTo(r, viewer));
  }

  /**
   * Records the caller's decision. Bad input is refused before anything is
   * written (400); a request that changed or was decided since is a conflict
   * (409); who may decide is the store's call (403 with its reason).
   */
  async decide(caller: Caller, namespace: string, name: string, body: unknown): Promise<ApprovalDetail> {
    const store = this.#o.access.storeFor(caller.token);
    const current = await this.#find(store, caller.viewer, namespace, name);
    const request = parseDecisionRequest(body, current);
    const now = this.#now();
    if (
      request.resourceVersion !== undefined &&
      current.metadata.resourceVersion !== undefined &&
      request.resourceVersion !== current.metadata.resourceVersion
    ) {
      throw new BelayError(
        'conflict',
        `${namespace}/${name} changed since you looked at it (it is now ${effectivePhase(current, now)}${current.status?.decidedBy ? `, decided by ${current.status.decidedBy}` : ''}); review it again`,
      );
    }
    const phase = effectivePhase(current, now);
    if (phase === 'Expired')
      throw new BelayError(
        'conflict',
        `${namespace}/${name} expired at ${current.spec.requiredBy} and can no longer be decided; the agent's next retry asks again`,
      );
    if (phase !== 'Pending') {
      const s = current.status;
      throw new BelayError(
        'conflict',
        `${namespace}/${name} is already ${phase}${s?.decidedBy ? ` (decided by ${s.decidedBy}${s.decidedAt ? ` at ${s.decidedAt}` : ''})` : ''}; a decision is final`,
      );
    }
    const { viewer } = caller;
    let stored: ApprovalRequest;
    try {
      stored = await store.decide(namespace, name, request.decision, {
        username: viewer.username,
        groups: viewer.groups,
        ...(viewer.uid ? { uid: viewer.uid } : {}),
      });
    } catch (err) {
      // A refusal names what was refused, for the audit record.
      const e = asBelayError(err);
      if (e.code === 'forbidden') throw new BelayError('forbidden', e.message, { cause: err, details: { refused: current } satisfies RefusedDetails });
      throw err;
    }
    return detail(stored, this.#now(), viewer, this.#o.agents());
  }

  async #visible(store: ApprovalStore, viewer: Viewer, namespace: string | undefined, now: Date): Promise<ApprovalRequest[]> {
    const all = (await store.list(namespace)).filter((r) => isRecord(r) && visibleTo(r, viewer)).sort(consoleOrder(now));
    const open = all.filter((r) => effectivePhase(r, now) === 'Pending');
    const settled = all.filter((r) => effectivePhase(r, now) !== 'Pending').slice(0, this.#o.recentLimit ?? 50);
    return [...open, ...settled];
  }

  async #find(store: ApprovalStore, viewer: Viewer, namespace: string, name: string): Promise<ApprovalRequest> {
    if (!isNamespaceName(namespace) || !isObjectName(name))
      throw new BelayError('bad_request', `approval id ${JSON.stringify(`${namespace}/${name}`)} is not "<namespace>/<name>"`);
    const r = await store.get(namespace, name);
    if (!r || !isRecord(r) || !visibleTo(r, viewer)) throw new BelayError('not_found', `no approval request ${namespace}/${name} (or it is not yours to see)`);
    return r;
  }

  #now(): Date {
    return this.#o.now?.() ?? new Date();
  }
}

/** The answer to a batch decision: each request's own result. */
export interface RunDecision {
  workflow: string;
  run: string | null;
  action: 'approve' | 'reject';
  decided: number;
  results: { id: string; ok: boolean; phase?: string; error?: { code: string; message: string } }[];
}

/** Most requests decided in one call. */
export const MAX_RUN_DECISIONS = 100;

/**
 * `{"action": "approve" | "reject", "workflow": "…", "run"?: "…" | null,
 * "ids": ["namespace/name", …], "message"?: "…"}`: the requests the approver
 * saw listed for the run, so nothing they did not see is decided.
 */
export function parseRunDecision(body: unknown): { action: 'approve' | 'reject'; workflow: string; run: string | null; ids: string[]; message?: string } {
  const bad = (m: string) => new BelayError('bad_request', m);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !['action', 'workflow', 'run', 'ids', 'message'].includes(k));
  if (unknown.length) throw bad(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
  if (b.action !== 'approve' && b.action !== 'reject') throw bad('"action" must be approve or reject (edits are made one request at a time)');
  if (typeof b.workflow !== 'string' || b.workflow === '' || b.workflow.length > 253) throw bad('"workflow" must name the workflow');
  if (b.run !== undefined && b.run !== null && (typeof b.run !== 'string' || b.run === '' || b.run.length > 253)) throw bad('"run" must be a run id or null');
  if (
    !Array.isArray(b.ids) ||
    b.ids.length === 0 ||
    b.ids.length > MAX_RUN_DECISIONS ||
    !b.ids.every((i) => typeof i === 'string' && /^[a-z0-9-]+\/[a-z0-9.-]+$/.test(i))
  ) {
    throw bad(`"ids" must list 1 to ${MAX_RUN_DECISIONS} requests as "namespace/name"`);
  }
  if (b.message !== undefined && typeof b.message !== 'string') throw bad('"message" must be a string');
  if (b.action === 'reject' && !(typeof b.message === 'string' && b.message.trim()))
    throw bad('a rejection needs a "message": the agent, and the human behind it, read why');
  return {
    action: b.action,
    workflow: b.workflow,
    run: typeof b.run === 'string' ? b.run : null,
    ids: [...new Set(b.ids as string[])],
    ...(typeof b.message === 'string' && b.message.trim() ? { message: b.message } : {}),
  };
}

/** Records written by something other than belay may lack what the console reads; they are skipped, not crashed on. */
function isRecord(r: ApprovalRequest): boolean {
  const s = r?.spec as Partial<ApprovalRequest['spec']> | undefined;
  return (
    !!s &&
    typeof s.requiredBy === 'string' &&
    typeof s.requester?.user === 'string' &&
    typeof s.request === 'object' &&
    s.request !== null &&
    typeof r.metadata?.namespace === 'string'
  );
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
