// Where an admitted change becomes an Outcome record, on every replica: the
// admission face hands over what it admitted, and the record is created in
// the background (the answer never waits for it). The mutating and the
// validating review of one request build the same record name; the second
// merges what it adds (the fix belay applied, an approval) into the first.
// Creations in flight are bounded: past the bound a change is counted and
// logged as not watched rather than held in memory.

import { asBelayError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import type { OutcomeMetrics } from './metrics.js';
import { outcomeRecord } from './record.js';
import { type OutcomeRecord, outcomeRef, resultOf } from './resource.js';
import type { AdmittedChange, ChangeRecorder } from './seam.js';
import type { OutcomeStore } from './store.js';

export interface RecorderOptions {
  store: Pick<OutcomeStore, 'create' | 'replace'>;
  /** Where records of cluster-scoped targets live. */
  namespace: string;
  log: Logger;
  metrics?: OutcomeMetrics;
  now?: () => Date;
  /** Creations in flight before new changes are dropped (counted, logged). */
  maxInFlight?: number;
}

export const DEFAULT_MAX_IN_FLIGHT = 64;
/** Two records with one name made this close together are the two reviews of one request. */
const SAME_REQUEST_MS = 2 * 60_000;
const MAX_ATTEMPTS = 5;

export class OutcomeRecorder implements ChangeRecorder {
  #options: RecorderOptions;
  #inFlight = 0;
  #pending = new Set<Promise<void>>();

  constructor(options: RecorderOptions) {
    this.#options = options;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  admitted(change: AdmittedChange): void {
    const { log, metrics } = this.#options;
    let record: OutcomeRecord | null;
    try {
      record = outcomeRecord(change, { namespace: this.#options.namespace, now: this.#now() });
    } catch (err) {
      log.warn({ uid: change.uid, err: asBelayError(err).message }, 'could not describe an admitted change for outcome tracking');
      return;
    }
    if (!record) return;
    if (this.#inFlight >= (this.#options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT)) {
      metrics?.dropped.inc({ reason: 'recorder_busy' });
      log.warn({ uid: change.uid, target: record.spec.change.target }, 'too many outcome records being written; this change is not watched');
      return;
    }
    this.#inFlight++;
    const run = this.#create(record)
      .catch((err) => {
        metrics?.dropped.inc({ reason: 'record_failed' });
        log.warn({ uid: change.uid, err: asBelayError(err).message }, 'could not record an admitted change; its outcome is not watched');
      })
      .finally(() => {
        this.#inFlight--;
        this.#pending.delete(run);
      });
    this.#pending.add(run);
  }

  /** Resolves when every record asked for so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #create(draft: OutcomeRecord): Promise<void> {
    const { store, log } = this.#options;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // An older, finished record of an identical change holds the name: the next attempt's name is this one's.
      const name = attempt === 1 ? draft.metadata.name : `${draft.metadata.name}-${attempt}`;
      const { record, created } = await store.create({ ...draft, metadata: { ...draft.metadata, name } });
      if (created) {
        log.info(
          { outcome: outcomeRef(record), target: draft.spec.change.target, triggers: draft.spec.change.triggers },
          'watching the outcome of an admitted change',
        );
        return;
      }
      if (sameRequest(record, draft)) {
        const merged = merge(record, draft);
        if (merged)
          await store.replace(merged).catch((err) => log.debug({ outcome: outcomeRef(record), err: asBelayError(err).message }, 'outcome merge skipped'));
        return;
      }
    }
    throw new Error(`${MAX_ATTEMPTS} records with this name exist already`);
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }
}

/** The other review of the same request: same target and expectation, made moments ago, still watched. */
function sameRequest(stored: OutcomeRecord, draft: OutcomeRecord): boolean {
  const a = Date.parse(stored.spec?.change?.admittedAt ?? '');
  const b = Date.parse(draft.spec.change.admittedAt);
  return (
    resultOf(stored) === 'Watching' &&
    Number.isFinite(a) &&
    Math.abs(b - a) <= SAME_REQUEST_MS &&
    stored.spec.expect?.specDigest === draft.spec.expect.specDigest &&
    stored.spec.expect?.replicas === draft.spec.expect.replicas
  );
}

/** What the second review adds to the first: triggers, the approval, the fix and the unfixed object, the generation. */
function merge(stored: OutcomeRecord, draft: OutcomeRecord): OutcomeRecord | null {
  const s = stored.spec.change;
  const d = draft.spec.change;
  const triggers = [...new Set([...s.triggers, ...d.triggers])].sort();
  const adds =
    triggers.length !== s.triggers.length ||
    (!s.approval && d.approval) ||
    (!s.fixes && d.fixes) ||
    (stored.spec.expect.generation === undefined && draft.spec.expect.generation !== undefined) ||
    (stored.spec.expect.uid === undefined && draft.spec.expect.uid !== undefined);
  if (!adds) return null;
  return {
    ...stored,
    spec: {
      ...stored.spec,
      change: {
        ...s,
        triggers,
        ...(s.approval || !d.approval ? {} : { approval: d.approval }),
        ...(s.fixes || !d.fixes ? {} : { fixes: d.fixes }),
      },
      expect: { ...draft.spec.expect, ...stored.spec.expect },
      ...(stored.spec.unfixed || !draft.spec.unfixed ? {} : { unfixed: draft.spec.unfixed }),
    },
  };
}
