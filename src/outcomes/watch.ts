// One watched change as a state machine, on the watcher's monotonic clock
// (pure: the caller reads the target and says what time it is). First the
// change must land: the live object shows the admitted spec (or replicas), or
// for a delete the object is gone. Then its health decides: a failure ends
// it Failed at once; a rollout complete and healthy for the settle time,
// without a gap in observation, ends it Succeeded; a Job or Pod that
// completes ends it Succeeded; a pod of the new revision running but never
// Ready past notReadyAfter ends it Failed. Anything that makes the outcome
// unknowable ends it Unknown with the reason: the object deleted, replaced
// or changed again, never landing, reads failing, the window over first.

import type { Health } from './judge.js';
import { boundEvidence, type FinalResult, type JudgePolicy, type OutcomeSpec } from './resource.js';

/** The target as read now. */
export type Snapshot =
  | { readonly present: false }
  | {
      readonly present: true;
      readonly uid: string;
      readonly generation: number;
      readonly deleting: boolean;
      readonly specDigest?: string;
      readonly replicas?: number;
      readonly health: Health;
    };

export interface Verdict {
  readonly result: FinalResult;
  readonly reason: string;
  readonly message: string;
  readonly evidence: string[];
}

export interface WatchTimings {
  /** A change not seen on the object by then never landed (refused after belay admitted it, or replaced at once). */
  landingGraceMs: number;
  /** Reads failing for this long end the watch Unknown (WatchBroken). */
  brokenAfterMs: number;
  /** Two observations further apart than this break a healthy stretch: health must be seen continuously. */
  gapMs: number;
}

export const DEFAULT_TIMINGS: WatchTimings = { landingGraceMs: 60_000, brokenAfterMs: 60_000, gapMs: 15_000 };
/** Pods of the new revision whose not-Ready time is tracked; more are counted, not timed. */
const MAX_TRACKED_PODS = 32;

export class Watch {
  readonly spec: Pick<OutcomeSpec, 'expect'> & { change: Pick<OutcomeSpec['change'], 'operation' | 'target'> };
  readonly policy: JudgePolicy;
  readonly startedAt: number;
  readonly deadline: number;
  #timings: WatchTimings;
  #landed = false;
  #landedUid: string | undefined;
  #gone = false;
  #deletingSeen = false;
  #healthySince: number | undefined;
  #lastOk: number | undefined;
  #errorSince: number | undefined;
  #lastError = '';
  #notReady = new Map<string, number>();
  #evidence: string[] = [];

  /** `remainingMs`: the window left (less than the policy's when another replica watched part of it). */
  constructor(spec: Watch['spec'], policy: JudgePolicy, now: number, remainingMs: number = policy.windowMs, timings: WatchTimings = DEFAULT_TIMINGS) {
    this.spec = spec;
    this.policy = policy;
    this.startedAt = now;
    this.deadline = now + Math.max(0, remainingMs);
    this.#timings = timings;
  }

  get landed(): boolean {
    return this.#landed;
  }

  /** The target's uid once the change landed (for Events on it). */
  get uid(): string | undefined {
    return this.#landedUid;
  }

  /** What was last seen, for a verdict decided by time. */
  get evidence(): readonly string[] {
    return this.#evidence;
  }

  /** A successful read of the target. */
  observe(s: Snapshot, now: number): Verdict | undefined {
    const gap = this.#lastOk !== undefined && now - this.#lastOk > this.#timings.gapMs;
    if (gap) this.#healthySince = undefined;
    this.#lastOk = now;
    this.#errorSince = undefined;
    return this.spec.change.operation === 'DELETE' ? this.#observeDelete(s) : this.#observeWrite(s, now);
  }

  /** A read that failed (the API server unreachable, forbidden, a timeout). */
  failedRead(message: string, now: number): Verdict | undefined {
    this.#errorSince ??= now;
    this.#lastError = message;
    this.#healthySince = undefined;
    return this.due(now);
  }

  /** What time alone decides: the window over, never landing, reads failing too long. */
  due(now: number): Verdict | undefined {
    const what = describe(this.spec.change.target);
    if (this.#errorSince !== undefined && now - this.#errorSince >= this.#timings.brokenAfterMs) {
      return unknown('WatchBroken', `belay could not read ${what} for ${secs(now - this.#errorSince)}: ${this.#lastError}`, this.#evidence);
    }
    if (now >= this.deadline) return this.#atDeadline(now, what);
    if (!this.#landed && !this.#deletingSeen && now - this.startedAt >= this.#timings.landingGraceMs && this.spec.change.operation !== 'DELETE') {
      return unknown('NotApplied', `${what} never showed this change (refused after belay admitted it, or replaced at once)`, this.#evidence);
    }
    return undefined;
  }

  #atDeadline(now: number, what: string): Verdict {
    const window = secs(this.policy.windowMs);
    if (this.#lastOk === undefined || now - this.#lastOk > Math.max(this.#timings.gapMs, this.#timings.brokenAfterMs)) {
      return unknown(
        'WatchBroken',
        `belay could not read ${what} near the end of the ${window} window${this.#lastError ? `: ${this.#lastError}` : ''}`,
        this.#evidence,
      );
    }
    if (this.spec.change.operation === 'DELETE') {
      if (this.#gone) return verdict('Succeeded', 'StayedDeleted', `${what} stayed deleted for the ${window} window`, []);
      if (this.#deletingSeen) return unknown('StillTerminating', `${what} was still terminating (finalizers) when the ${window} window ended`, this.#evidence);
      return unknown('NotApplied', `${what} was never deleted during the ${window} window`, this.#evidence);
    }
    if (!this.#landed) return unknown('NotApplied', `${what} never showed this change during the ${window} window`, this.#evidence);
    if (this.#healthySince !== undefined && now - this.#healthySince >= this.policy.settleMs) {
      return verdict('Succeeded', 'RolloutComplete', `${what} is healthy`, this.#evidence);
    }
    return unknown(
      'RolloutIncomplete',
      this.#healthySince !== undefined
        ? `${what} became healthy only ${secs(now - this.#healthySince)} before the ${window} window ended (it must stay healthy ${secs(this.policy.settleMs)})`
        : `${what} had not finished rolling out when the ${window} window ended`,
      this.#evidence,
    );
  }

  #observeWrite(s: Snapshot, now: number): Verdict | undefined {
    const what = describe(this.spec.change.target);
    const expect = this.spec.expect;
    const scale = this.spec.change.target.subresource === 'scale';
    if (!s.present) {
      if (this.#landed) return unknown('Deleted', `${what} was deleted during the window`, this.#evidence);
      return undefined;
    }
    this.#evidence = s.health.evidence;
    if (this.#landed && s.uid !== this.#landedUid)
      return unknown('Replaced', `${what} was deleted and created again (uid ${s.uid}) during the window`, this.#evidence);
    const matches = scale ? s.replicas === expect.replicas : s.specDigest === expect.specDigest;
    if (!this.#landed) {
      const otherObject = this.spec.change.operation === 'UPDATE' && expect.uid !== undefined && s.uid !== expect.uid;
      if (otherObject) return unknown('Replaced', `${what} was replaced (uid ${s.uid}, the change was made to ${expect.uid})`, this.#evidence);
      if (!matches) {
        if (expect.generation !== undefined && s.generation > expect.generation) {
          return unknown('Superseded', `${what} was changed again (generation ${s.generation}) before belay saw this change land`, this.#evidence);
        }
        return undefined;
      }
      this.#landed = true;
      this.#landedUid = s.uid;
    } else if (!matches) {
      return unknown(
        'Superseded',
        `${what} was changed again during the window (generation ${s.generation}); this change's outcome cannot be told apart`,
        this.#evidence,
      );
    }
    return this.#health(s.health, now, what);
  }

  #health(h: Health, now: number, what: string): Verdict | undefined {
    switch (h.state) {
      case 'failed':
        return verdict('Failed', h.reason ?? 'Failed', h.message ?? `${what} failed`, h.evidence);
      case 'complete':
        return verdict('Succeeded', 'Completed', h.message ?? `${what} completed`, h.evidence);
      case 'healthy':
        this.#notReady.clear();
        this.#healthySince ??= now;
        if (now - this.#healthySince >= this.policy.settleMs) {
          return verdict('Succeeded', 'RolloutComplete', `${h.message ?? what}; healthy for ${secs(now - this.#healthySince)}`, h.evidence);
        }
        return undefined;
      case 'progressing': {
        this.#healthySince = undefined;
        const seen = new Set(h.notReady);
        for (const name of [...this.#notReady.keys()]) if (!seen.has(name)) this.#notReady.delete(name);
        for (const name of h.notReady) {
          if (!this.#notReady.has(name) && this.#notReady.size < MAX_TRACKED_PODS) this.#notReady.set(name, now);
          const since = this.#notReady.get(name);
          if (since !== undefined && now - since >= this.policy.notReadyMs) {
            return verdict('Failed', 'NotReady', `pod ${name} has been running but not Ready for ${secs(now - since)}`, h.evidence);
          }
        }
        return undefined;
      }
    }
  }

  #observeDelete(s: Snapshot): Verdict | undefined {
    const what = describe(this.spec.change.target);
    const deleted = this.spec.expect.uid;
    if (!s.present) {
      this.#gone = true;
      this.#landed = true;
      return undefined;
    }
    this.#evidence = s.health.evidence;
    if (deleted !== undefined ? s.uid !== deleted : this.#gone) {
      this.#gone = false;
      return verdict('Failed', 'Recreated', `${what} was created again (uid ${s.uid}) after it was deleted`, [
        `deleted uid ${deleted ?? 'unknown'}, now uid ${s.uid}`,
        ...s.health.evidence,
      ]);
    }
    if (this.#gone) return unknown('Replaced', `${what} with the deleted uid is back, which the API server does not do`, this.#evidence);
    if (s.deleting) this.#deletingSeen = true;
    return undefined;
  }
}

function verdict(result: FinalResult, reason: string, message: string, evidence: readonly string[]): Verdict {
  return { result, reason, message, evidence: boundEvidence(evidence) };
}

function unknown(reason: string, message: string, evidence: readonly string[]): Verdict {
  return verdict('Unknown', reason, message, evidence);
}

function describe(t: OutcomeSpec['change']['target']): string {
  return `${t.kind || t.resource} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

function secs(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 120 ? `${Math.round(s / 60)}m` : `${s}s`;
}
