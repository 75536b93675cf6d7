// The approval lifecycle behind the gate, on either store:
//
//   defer, nothing on record          → create Pending (never on dry run), refuse with how to approve
//   Pending                           → refuse, same message
//   Approved, before requiredBy       → use it up for this request (Consumed), admit once
//   Consumed, inside the request's    → admit again (Secret reads: one use covers the same read
//   window                              for a window, counted from the use on record)
//   Consumed by this review's uid,    → admit again (the API server retrying the same call);
//   moments ago (admission only)        an id an agent picks never counts: its call is a new use
//   Consumed moments ago by belay's   → the same API request at a later stage (a reinvocation, or
//   mutating webhook, same object       validation, which confirms the use once)
//   Approved, held by a review nobody → the API server's view shows that request: used (ask anew);
//   verified (InUse; provisional.ts)    not yet: refused while it may be in flight, then the hold is void
//   Rejected, before requiredBy       → refuse with the approver's message
//   Consumed by another, Expired, or
//   lapsed                            → a new request (attempt n+1), Pending — unless the target or
//                                       the requester has too many waiting already: refused
//
// The API server gives every webhook call its own uid, so the mutating and
// validating reviews of one request cannot be linked by uid: a use recorded
// by the mutating webhook stays unconfirmed until a validating review shows
// the object it admitted (the approved object, or the approver's edit of it)
// and confirms it — once. An unconfirmed use that nothing confirms lapses
// after IN_FLIGHT_MS and counts as used (at most once, never twice).
//
// Requests for one target are handled one at a time in this process; across
// replicas the store's exclusive create and resourceVersion checks decide.

import type { JsonObject, PatchOperation } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { alreadyUsed, retryAfterApproval } from './explain.js';
import { approvalName, type RequestKeys, requesterKey, requestKeys } from './fingerprint.js';
import type { AdmitCheck, ApprovalGate, DeferredRequest, GateOutcome } from './gate.js';
import { editInEffect } from './override.js';
import { beforeOf, canReserve, inUse, type Reservation, released, reservationOf, type UseEvidence } from './provisional.js';
import { newApprovalRequest } from './record.js';
import {
  APPROVAL_PLURAL,
  type ApprovalConsumption,
  type ApprovalOverride,
  type ApprovalRequest,
  attemptOf,
  type Condition,
  DEFAULT_APPROVALS_NAMESPACE,
  DEFAULT_APPROVER_GROUPS,
  isLapsed,
  LABELS,
  phaseOf,
  refOf,
  rfc3339,
  withCondition,
} from './resource.js';
import type { ApprovalStore } from './store.js';

export interface LifecycleOptions {
  store: ApprovalStore;
  /** Where requests without a namespace (cluster-scoped objects, tool calls) are kept. */
  namespace?: string;
  /** Groups that decide when the policy names none. */
  approverGroups?: readonly string[];
  /** Overrides the policy's approval.ttl for new requests (tests, drills). */
  ttlMs?: number;
  now?: () => Date;
  log?: Logger;
  /** Requests with different content for one target that may wait for a human at once (default 10). */
  maxOpenPerTarget?: number;
  /** Requests one requester may have waiting for a human at once, over every target (default 100). */
  maxOpenPerRequester?: number;
  /**
   * The API server's own view of objects (cluster mode): with it, a use by a
   * review nobody verified is held until that view shows the request
   * happened (provisional.ts). Without it such a use counts at once.
   */
  evidence?: UseEvidence;
}

export const DEFAULT_MAX_OPEN_PER_TARGET = 10;
export const DEFAULT_MAX_OPEN_PER_REQUESTER = 100;

/** How long a use by the mutating webhook waits for its validation: the API server's default request timeout. */
export const IN_FLIGHT_MS = 60_000;
/** Attempts at using an approval that another writer changed under us. */
const MAX_RACES = 3;
/** Another writer changed the record between our read and our write: read again. */
const RACED: unique symbol = Symbol('raced');

export class ApprovalLifecycle implements ApprovalGate {
  readonly store: ApprovalStore;
  #options: LifecycleOptions;
  #chains = new Map<string, Promise<unknown>>();

  constructor(options: LifecycleOptions) {
    this.store = options.store;
    this.#options = options;
  }

  async resolve(request: DeferredRequest): Promise<GateOutcome> {
    const keys = requestKeys(request.input);
    return this.#serial(keys.target, () => this.#resolve(request, keys));
  }

  /** The namespace an approval for this request lives in. */
  namespaceFor(request: DeferredRequest): string {
    return request.input.resource.namespace || this.#options.namespace || DEFAULT_APPROVALS_NAMESPACE;
  }

  async #resolve(request: DeferredRequest, keys: RequestKeys): Promise<GateOutcome> {
    const namespace = this.namespaceFor(request);
    for (let race = 0; ; race++) {
      const records = await this.store.listByTarget(namespace, keys.target);
      const used = request.idempotent ? this.#retried(records, request) : undefined;
      const inFlight = !used && request.stage ? this.#inFlight(records, request, keys) : undefined;
      const current = records
        .filter((r) => r.metadata.labels?.[LABELS.fingerprint] === keys.fingerprint)
        .sort((a, b) => attemptOf(a) - attemptOf(b))
        .at(-1);
      const outcome = used
        ? await this.#reuse(used, request)
        : inFlight
          ? await this.#continue(inFlight, request)
          : current
            ? await this.#answer(current, request, keys, namespace, records)
            : await this.#ask(request, keys, namespace, 1, null, records);
      if (outcome !== RACED) return outcome;
      if (race >= MAX_RACES) {
        throw new BelayError('conflict', `approval for this request kept changing while belay tried to use it; retry the request`);
      }
    }
  }

  /**
   * The use this very review made, if it is seen again while its request can
   * still be in flight: the API server retrying one call. Later, the same uid
   * is no excuse for a second use.
   */
  #retried(records: readonly ApprovalRequest[], request: DeferredRequest): ApprovalRequest | undefined {
    const now = this.#now().getTime();
    return records.find((r) => {
      const c = useOf(r);
      return c?.requestUid === request.requestUid && now - Date.parse(c.at) <= IN_FLIGHT_MS;
    });
  }

  /**
   * An approval belay's mutating webhook used moments ago, not yet confirmed,
   * for an object like this one: the approved object, or one that shows the
   * approver's edit (with whatever defaults the API server filled in).
   */
  #inFlight(records: readonly ApprovalRequest[], request: DeferredRequest, keys: RequestKeys): ApprovalRequest | undefined {
    const now = this.#now().getTime();
    return records.find((r) => {
      const c = useOf(r);
      if (!c || c.confirmedAt || now - Date.parse(c.at) > IN_FLIGHT_MS) return false;
      if (c.objectDigest === keys.objectDigest) return true;
      const patch = r.status?.override?.patch;
      return !!patch && patch.length > 0 && editInEffect(request.input.object, patch);
    });
  }

  /**
   * The same API request at a later stage. A mutating reinvocation records
   * the object as it now is; validation confirms the use — the first
   * validation to do so wins, so of two identical requests only one is admitted.
   */
  async #continue(used: ApprovalRequest, request: DeferredRequest): Promise<GateOutcome | typeof RACED> {
    const override = used.status?.override ?? null;
    const recorded = useOf(used)!;
    // The object already carries the edit: nothing to apply again.
    const check = await this.#admit(request, null);
    if (!check.ok) return refused(used, check.message);
    if (request.dryRun || (request.stage === 'mutate' && check.objectDigest === recorded.objectDigest)) return approved(used, override);
    const at = rfc3339(this.#now());
    const use =
      request.stage === 'validate' ? { ...recorded, objectDigest: check.objectDigest, confirmedAt: at } : { ...recorded, objectDigest: check.objectDigest };
    try {
      const stored = await this.store.replaceStatus(withUse(used, use));
      return approved(stored, override);
    } catch (err) {
      if (asBelayError(err).code === 'conflict') return RACED;
      throw err;
    }
  }

  /** What the latest request with this fingerprint means for this one. */
  async #answer(
    current: ApprovalRequest,
    request: DeferredRequest,
    keys: RequestKeys,
    namespace: string,
    records: readonly ApprovalRequest[],
  ): Promise<GateOutcome | typeof RACED> {
    const now = this.#now();
    const phase = phaseOf(current);
    const lapsed = isLapsed(current, now);
    if (phase === 'Pending' && !lapsed) return pending(current, this.store.kind, request);
    if (phase === 'Approved' && !lapsed) {
      const held = reservationOf(current);
      return held ? this.#held(current, held, request) : this.#use(current, request);
    }
    if (phase === 'Rejected' && !lapsed) return rejected(current);
    if (phase === 'Consumed') {
      const until = windowEnd(current, request);
      if (until && now < until) return this.#within(current, request, until);
    }
    return this.#ask(request, keys, namespace, attemptOf(current) + 1, current, records);
  }

  /** A use inside the request's window: admitted again, nothing written (the use on record is the truth). */
  async #within(used: ApprovalRequest, request: DeferredRequest, until: Date): Promise<GateOutcome> {
    const override = used.status?.override ?? null;
    const check = await this.#admit(request, editOf(override), override?.arguments ?? null);
    if (!check.ok) return refused(used, check.message);
    return approved(used, override, until);
  }

  /**
   * Records a new request (attempt `attempt`) and answers pending; a dry run
   * only says what would happen. A target, and a requester, with too many
   * requests already waiting for a human get a refusal instead: a flood of
   * distinct requests cannot grow the store without bound.
   */
  async #ask(
    request: DeferredRequest,
    keys: RequestKeys,
    namespace: string,
    attempt: number,
    previous: ApprovalRequest | null,
    records: readonly ApprovalRequest[],
  ): Promise<GateOutcome | typeof RACED> {
    const after = previous ? `${previousSummary(previous, this.#now(), request)}. ` : '';
    if (request.dryRun) {
      const name = approvalName(keys.fingerprint, attempt);
      return {
        kind: 'pending',
        approvalId: null,
        message: `${after}This is a dry run, so nothing was recorded; the same request without --dry-run creates ApprovalRequest ${namespace}/${name} for an approver to decide.`,
      };
    }
    const perTarget = this.#options.maxOpenPerTarget ?? DEFAULT_MAX_OPEN_PER_TARGET;
    const openForTarget = this.#open(records).filter((r) => r.metadata.labels?.[LABELS.fingerprint] !== keys.fingerprint);
    if (openForTarget.length >= perTarget) return tooMany(openForTarget, `for ${describeTarget(request)}`, request);
    // Counting a requester's open requests and adding one happen one at a time per requester in this process.
    const requester = requesterKey(request.input.actor.username);
    return this.#serial(`requester:${requester}`, async () => {
      const perRequester = this.#options.maxOpenPerRequester ?? DEFAULT_MAX_OPEN_PER_REQUESTER;
      const open = this.#open(await this.store.listByRequester(requester));
      if (open.length >= perRequester) return tooMany(open, `from ${request.input.actor.username}`, request);
      return this.#create(request, keys, namespace, attempt, after);
    });
  }

  /** Requests still waiting for a human: Pending, before their deadline. */
  #open(records: readonly ApprovalRequest[]): ApprovalRequest[] {
    const now = this.#now();
    return records.filter((r) => phaseOf(r) === 'Pending' && !isLapsed(r, now));
  }

  async #create(request: DeferredRequest, keys: RequestKeys, namespace: string, attempt: number, after: string): Promise<GateOutcome | typeof RACED> {
    const draft = newApprovalRequest(request, keys, {
      namespace,
      attempt,
      now: this.#now(),
      approverGroups: this.#options.approverGroups ?? DEFAULT_APPROVER_GROUPS,
      ...(this.#options.ttlMs !== undefined ? { ttlMs: this.#options.ttlMs } : {}),
    });
    const { request: stored, created } = await this.store.create(draft);
    if (created) {
      this.#options.log?.info(
        { approval: refOf(stored), requester: stored.spec.requester.user, requiredBy: stored.spec.requiredBy, attempt },
        'approval requested',
      );
      return pending(stored, this.store.kind, request, after);
    }
    // Another replica created it between our read and our create: answer from what it holds.
    if (phaseOf(stored) === 'Pending' && !isLapsed(stored, this.#now())) return pending(stored, this.store.kind, request, after);
    return RACED;
  }

  /** Uses an approval for this request: the face checks what it will admit, then the store records it, once. */
  async #use(current: ApprovalRequest, request: DeferredRequest): Promise<GateOutcome | typeof RACED> {
    const override = current.status?.override ?? null;
    const patch = editOf(override);
    if (patch && request.stage === 'validate') {
      return refused(
        current,
        `the approver edited this request, and only belay's mutating webhook can apply an edit; it did not see this request (check the MutatingWebhookConfiguration covers ${current.spec.request.resource})`,
      );
    }
    // The edit (a patch, or a tool call's replacement arguments) is checked before the approval is used up.
    const check = await this.#admit(request, patch, override?.arguments ?? null);
    if (!check.ok) return refused(current, check.message);
    if (request.dryRun) return approved(current, override);

    const now = rfc3339(this.#now());
    if (this.#options.evidence && canReserve(request)) return this.#reserve(current, request, check.objectDigest, now, override);
    const next: ApprovalRequest = {
      ...current,
      status: {
        ...(current.status ?? { phase: 'Approved' }),
        phase: 'Consumed',
        // Confirmed at once unless belay's validating webhook is still to see this request.
        consumption: { requestUid: request.requestUid, objectDigest: check.objectDigest, at: now, ...(request.stage === 'mutate' ? {} : { confirmedAt: now }) },
        conditions: withCondition(current.status?.conditions, consumedBy(request.requestUid, now)),
      },
    };
    try {
      const stored = await this.store.replaceStatus(next);
      this.#options.log?.info({ approval: refOf(stored), uid: request.requestUid, decidedBy: stored.status?.decidedBy }, 'approval used');
      return approved(stored, override, windowEnd(stored, request));
    } catch (err) {
      if (asBelayError(err).code === 'conflict') return RACED;
      throw err;
    }
  }

  /**
   * A use by a review nobody verified: held on the approval (still Approved)
   * until the API server shows the request happened (provisional.ts).
   */
  async #reserve(
    current: ApprovalRequest,
    request: DeferredRequest,
    objectDigest: string,
    now: string,
    override: ApprovalOverride | null,
  ): Promise<GateOutcome | typeof RACED> {
    const before = beforeOf(request);
    const reservation: Reservation = {
      requestUid: request.requestUid,
      objectDigest,
      at: now,
      ...(request.stage === 'mutate' ? {} : { confirmedAt: now }),
      operation: request.input.action.operation,
      ...(before ? { before } : {}),
    };
    const status = current.status ?? { phase: 'Approved' as const };
    try {
      const stored = await this.store.replaceStatus({ ...current, status: { ...status, conditions: withCondition(status.conditions, inUse(reservation)) } });
      this.#options.log?.info({ approval: refOf(stored), uid: request.requestUid }, 'approval held by an unverified review until the API server shows it');
      return approved(stored, override);
    } catch (err) {
      if (asBelayError(err).code === 'conflict') return RACED;
      throw err;
    }
  }

  /**
   * An approval another review holds provisionally. Shown by the API server
   * (or past knowing): it is used, and this request asks anew. Not shown yet:
   * refused while that review could still be in flight; after that the hold
   * is void, and this request uses the approval.
   */
  async #held(current: ApprovalRequest, held: Reservation, request: DeferredRequest): Promise<GateOutcome | typeof RACED> {
    const now = this.#now();
    const at = rfc3339(now);
    const shown = this.#options.evidence ? await this.#options.evidence.shows(current.spec.request, held) : 'unknown';
    const status = current.status ?? { phase: 'Approved' as const };
    if (shown !== 'not-shown') {
      const why = shown === 'shown' ? 'the API server shows the request it admitted' : 'the API server cannot show whether it happened, so it counts as used';
      const settled: ApprovalRequest = {
        ...current,
        status: {
          ...status,
          phase: 'Consumed',
          consumption: { requestUid: held.requestUid, objectDigest: held.objectDigest, at: held.at, confirmedAt: held.confirmedAt ?? at },
          conditions: withCondition(released(status.conditions, shown === 'shown' ? 'Shown' : 'Unconfirmable', why, at), consumedBy(held.requestUid, at)),
        },
      };
      try {
        await this.store.replaceStatus(settled);
      } catch (err) {
        if (asBelayError(err).code !== 'conflict') throw err;
      }
      return RACED;
    }
    const until = new Date(Date.parse(held.at) + IN_FLIGHT_MS);
    if (now < until) {
      return refused(
        current,
        `it is held by request ${held.requestUid}, which a caller belay could not verify sent at ${held.at}, and the API server does not show that request yet; if it never goes through, the approval can be used from ${rfc3339(until)}`,
      );
    }
    const voided = released(
      status.conditions,
      'NeverShown',
      `request ${held.requestUid} never showed in the API server: its hold on this approval is void`,
      at,
    );
    this.#options.log?.warn(
      { approval: refOf(current), uid: held.requestUid },
      'an unverified review held this approval and never showed in the API server; the hold is void',
    );
    return this.#use({ ...current, status: { ...status, conditions: voided } }, request);
  }

  /** The same request again (validate after mutate, a reinvocation): admitted if it is still the approved object. */
  async #reuse(used: ApprovalRequest, request: DeferredRequest): Promise<GateOutcome | typeof RACED> {
    const override = used.status?.override ?? null;
    const recorded = useOf(used)!;
    const check = await this.#admit(request, editOf(override), override?.arguments ?? null);
    if (!check.ok) return refused(used, check.message);
    if (check.objectDigest === recorded.objectDigest) return approved(used, override, windowEnd(used, request));
    // The API server fills defaults inside what an edit added, after belay's mutating webhook computed the digest.
    if (request.stage === 'validate' && override?.patch?.length && editInEffect(request.input.object, override.patch)) return approved(used, override);
    if (request.stage !== 'mutate') {
      return refused(
        used,
        `the object admitted under ${APPROVAL_PLURAL} ${refOf(used)} is not the one that was approved (${recorded.objectDigest}, now ${check.objectDigest}); something changed it after belay's mutating webhook`,
      );
    }
    // A reinvocation after another mutating webhook changed the object: record what will now be admitted.
    try {
      const stored = await this.store.replaceStatus(withUse(used, { ...recorded, objectDigest: check.objectDigest }));
      return approved(stored, override);
    } catch (err) {
      if (asBelayError(err).code === 'conflict') return RACED;
      throw err;
    }
  }

  async #admit(request: DeferredRequest, patch: PatchOperation[] | null, args: JsonObject | null = null): Promise<AdmitCheck> {
    if (request.admit) return request.admit(patch, args);
    return { ok: true, objectDigest: requestKeys(request.input).objectDigest };
  }

  /** Runs `fn` after every earlier call for the same key has settled. */
  async #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(fn);
    this.#chains.set(key, run);
    try {
      return await run;
    } finally {
      if (this.#chains.get(key) === run) this.#chains.delete(key);
    }
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }
}

/** A refusal to record one more request for `whose` while `open` wait for a decision. */
function tooMany(open: readonly ApprovalRequest[], whose: string, request: DeferredRequest): GateOutcome {
  const oldest = [...open].sort((a, b) => a.spec.requiredBy.localeCompare(b.spec.requiredBy));
  const first = oldest[0]!;
  const listed = oldest
    .slice(0, 3)
    .map((r) => refOf(r))
    .join(', ');
  return {
    kind: 'refused',
    approvalId: refOf(first),
    message:
      `${open.length} approval requests ${whose} already wait for a decision (${listed}${open.length > 3 ? ', …' : ''}), ` +
      `so belay records no more until one is decided or expires (the first at ${first.spec.requiredBy}). ` +
      `Ask an approver to decide them (belay approvals list), or ${request.input.face === 'admission' ? 'retry the request' : 'retry the call'} later`,
  };
}

function describeTarget(request: DeferredRequest): string {
  const r = request.input.resource;
  const tool = (request.input.tool as { name?: unknown } | null)?.name;
  const what = typeof tool === 'string' ? `tool ${tool} on ` : `${request.input.action.operation} of `;
  return `${what}${r.kind || r.resource || 'an object'} ${r.namespace ? `${r.namespace}/` : ''}${r.name || '(unnamed)'} by ${request.input.actor.username}`;
}

/** The condition a use leaves on the record. */
function consumedBy(requestUid: string, at: string): Condition {
  return { type: 'Consumed', status: 'True', reason: 'Admitted', message: `used by request ${requestUid}`, lastTransitionTime: at };
}

/** The use on record: a Consumed record's, or the hold an unverified review has on an Approved one. */
function useOf(r: ApprovalRequest): ApprovalConsumption | undefined {
  const phase = phaseOf(r);
  if (phase === 'Consumed') return r.status?.consumption;
  const held = phase === 'Approved' ? reservationOf(r) : undefined;
  if (!held) return undefined;
  return { requestUid: held.requestUid, objectDigest: held.objectDigest, at: held.at, ...(held.confirmedAt ? { confirmedAt: held.confirmedAt } : {}) };
}

/** `r` with its use on record replaced: the consumption, or the hold. */
function withUse(r: ApprovalRequest, use: ApprovalConsumption): ApprovalRequest {
  const status = r.status ?? { phase: 'Approved' as const };
  const held = phaseOf(r) === 'Approved' ? reservationOf(r) : undefined;
  if (!held) return { ...r, status: { ...status, consumption: use } };
  return { ...r, status: { ...status, conditions: withCondition(status.conditions, inUse({ ...held, ...use })) } };
}

function editOf(override: { patch?: PatchOperation[] } | null): PatchOperation[] | null {
  return override?.patch && override.patch.length > 0 ? override.patch : null;
}

/** The end of the request's window after the use on record; undefined without a window (or a readable use). */
function windowEnd(r: ApprovalRequest, request: DeferredRequest): Date | undefined {
  const at = Date.parse(r.status?.consumption?.at ?? '');
  if (!request.windowMs || request.windowMs <= 0 || !Number.isFinite(at)) return undefined;
  return new Date(at + request.windowMs);
}

function approved(r: ApprovalRequest, override: { patch?: PatchOperation[]; arguments?: JsonObject } | null, until?: Date): GateOutcome {
  return {
    kind: 'approved',
    approvalId: refOf(r),
    override: editOf(override),
    arguments: override?.arguments ?? null,
    decidedBy: r.status?.decidedBy ?? '',
    ...(until ? { until: rfc3339(until) } : {}),
  };
}

function pending(r: ApprovalRequest, store: ApprovalStore['kind'], request: Pick<DeferredRequest, 'dryRun' | 'windowMs'>, preface = ''): GateOutcome {
  return {
    kind: 'pending',
    approvalId: refOf(r),
    message: `${preface}${howToApprove(r, store, request.windowMs)}${request.dryRun ? ' (This dry run changed nothing.)' : ''}`,
  };
}

function rejected(r: ApprovalRequest): GateOutcome {
  const s = r.status;
  const why = s?.message ? `: ${s.message}` : '';
  return {
    kind: 'rejected',
    approvalId: refOf(r),
    message: `rejected by ${s?.decidedBy || 'an approver'}${why} (ApprovalRequest ${refOf(r)}); this request stays refused until ${r.spec.requiredBy}: change it, or ask an approver`,
  };
}

function refused(r: ApprovalRequest, why: string): GateOutcome {
  return { kind: 'refused', approvalId: refOf(r), message: `approval ${refOf(r)} does not admit this request: ${why}` };
}

/** What the agent (and the human behind it) reads: what to run, by whom, and what a retry then gets. */
export function howToApprove(r: ApprovalRequest, store: ApprovalStore['kind'] = 'cluster', windowMs?: number): string {
  const { namespace, name } = r.metadata;
  const groups = r.spec.approverGroups.join(', ');
  const kubectl =
    store === 'cluster'
      ? ` (or: kubectl patch approvalrequest ${name} -n ${namespace} --subresource=status --type=merge -p '{"status":{"phase":"Approved"}}')`
      : '';
  return (
    `ApprovalRequest ${namespace}/${name} is Pending until ${r.spec.requiredBy}. ` +
    `An approver (${groups}) can run: belay approvals approve ${namespace}/${name}${kubectl}; ` +
    `${retryAfterApproval(r.spec.face, windowMs)}.`
  );
}

function previousSummary(r: ApprovalRequest, now: Date, request: DeferredRequest): string {
  const phase = phaseOf(r);
  if (phase === 'Consumed') return alreadyUsed(r, windowEnd(r, request));
  if (phase === 'Expired' || isLapsed(r, now)) return `ApprovalRequest ${refOf(r)} expired at ${r.spec.requiredBy}, so this is a new request`;
  return `ApprovalRequest ${refOf(r)} is ${phase}`;
}
