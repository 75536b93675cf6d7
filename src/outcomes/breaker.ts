// The trust ladder's circuit breaker. Outcomes of changes admitted in
// `automate` count toward the scope that graduated them (workflow, agent,
// namespace or global): a Succeeded one resets the count, a Failed one adds
// to it, an Unknown one neither. At the threshold (policy data
// outcomes.breaker.consecutiveFailures) the breaker trips: the scope is
// demoted to approve (policies/trust/trust.rego reads the trip from
// input.outcomes.breakers) until a policy change lists the trip's id under
// outcomes.breaker.acknowledged — nothing else undoes it.
//
// Where it lives: one ConfigMap in belay's namespace (BREAKER_CONFIGMAP),
// written only by the replica holding the outcomes Lease, with
// compare-and-swap on its resourceVersion; every replica reads it (polling)
// and puts the trips into every policy input. So every replica agrees within
// one poll, a restart loses nothing, and `kubectl get configmap` shows it.
// The state is bounded: at most MAX_SCOPES scopes, the oldest untripped
// ones dropped first.

import * as k8s from '@kubernetes/client-node';
import { call } from '../approvals/kube-store.js';
import type { BreakerTrip, JsonObject, OutcomesInput } from '../contract/index.js';
import { BelayError } from '../errors.js';

export const BREAKER_CONFIGMAP = 'belay-trust-breakers';
const DATA_KEY = 'breakers.json';
export const MAX_SCOPES = 1_000;
/** Failed outcomes remembered per scope (the evidence of a trip). */
const MAX_REMEMBERED = 10;

export interface ScopeRecord {
  consecutiveFailures: number;
  /** The latest failed outcomes in a row, newest last. */
  failures: string[];
  tripped?: BreakerTrip;
  updatedAt: string;
}

export interface BreakerState {
  version: 1;
  scopes: Record<string, ScopeRecord>;
}

export const emptyState = (): BreakerState => ({ version: 1, scopes: {} });

/** "<scope>:<name>" as policy looks it up; undefined when the change was not automated. */
export function breakerKey(trust: { mode: string | null; scope: string; subject: string } | undefined): string | undefined {
  if (trust?.mode !== 'automate' || !trust.scope) return undefined;
  return `${trust.scope}:${trust.subject}`;
}

/** Threshold and acknowledged trips from bundle data (data.belay.config.outcomes.breaker). */
export function breakerSettings(data: JsonObject | undefined): { threshold: number; acknowledged: Set<string> } {
  const config = ((data?.belay as JsonObject | undefined)?.config as JsonObject | undefined)?.outcomes as JsonObject | undefined;
  const breaker = (config?.breaker ?? {}) as JsonObject;
  const n = breaker.consecutiveFailures;
  const acknowledged = Array.isArray(breaker.acknowledged) ? breaker.acknowledged.filter((x): x is string => typeof x === 'string') : [];
  return { threshold: typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 3, acknowledged: new Set(acknowledged) };
}

/** The state after one outcome; `tripped` when this outcome tripped the breaker. */
export function recordOutcome(
  state: BreakerState,
  key: string,
  result: string,
  outcome: string,
  now: Date,
  threshold: number,
): { state: BreakerState; tripped?: BreakerTrip } {
  if (result !== 'Succeeded' && result !== 'Failed') return { state };
  const at = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const scopes = { ...state.scopes };
  const current = scopes[key] ?? { consecutiveFailures: 0, failures: [], updatedAt: at };
  if (result === 'Succeeded') {
    // A success resets the count, never a trip: only a policy change undoes that.
    if (current.tripped) scopes[key] = { ...current, consecutiveFailures: 0, failures: [], updatedAt: at };
    else delete scopes[key];
    return { state: { version: 1, scopes } };
  }
  const failures = [...current.failures, outcome].slice(-MAX_REMEMBERED);
  const next: ScopeRecord = { ...current, consecutiveFailures: current.consecutiveFailures + 1, failures, updatedAt: at };
  let tripped: BreakerTrip | undefined;
  if (!current.tripped && next.consecutiveFailures >= threshold) {
    tripped = { id: `${key}@${at}`, trippedAt: at, failures: next.consecutiveFailures, outcomes: failures.slice(-threshold) };
    next.tripped = tripped;
  }
  scopes[key] = next;
  return { state: { version: 1, scopes: bound(scopes) }, ...(tripped ? { tripped } : {}) };
}

/** Trips a policy change acknowledged are removed (and their counts reset); returns what was reset. */
export function acknowledge(state: BreakerState, acknowledged: Set<string>): { state: BreakerState; reset: BreakerTrip[] } {
  const reset: BreakerTrip[] = [];
  const scopes = { ...state.scopes };
  for (const [key, s] of Object.entries(scopes)) {
    if (s.tripped && acknowledged.has(s.tripped.id)) {
      reset.push(s.tripped);
      delete scopes[key];
    }
  }
  return { state: { version: 1, scopes }, reset };
}

/** What policy sees: every trip, acknowledged or not (policy checks the acknowledgement itself). */
export function breakerInput(state: BreakerState): OutcomesInput {
  const breakers: Record<string, BreakerTrip> = {};
  for (const [key, s] of Object.entries(state.scopes)) if (s.tripped) breakers[key] = s.tripped;
  return { breakers };
}

function bound(scopes: Record<string, ScopeRecord>): Record<string, ScopeRecord> {
  const keys = Object.keys(scopes);
  if (keys.length <= MAX_SCOPES) return scopes;
  const droppable = keys.filter((k) => !scopes[k]!.tripped).sort((a, b) => scopes[a]!.updatedAt.localeCompare(scopes[b]!.updatedAt));
  const out = { ...scopes };
  for (const k of droppable.slice(0, keys.length - MAX_SCOPES)) delete out[k];
  return out;
}

/** Reads a stored state; anything unreadable is an empty state (logged by the caller) rather than a wrong trip. */
export function parseState(text: string | undefined): BreakerState {
  if (!text) return emptyState();
  const raw = JSON.parse(text) as { version?: unknown; scopes?: unknown };
  if (raw.version !== 1 || typeof raw.scopes !== 'object' || raw.scopes === null) throw new Error('not a belay breaker state (version 1)');
  const scopes: Record<string, ScopeRecord> = {};
  for (const [key, v] of Object.entries(raw.scopes as Record<string, unknown>)) {
    const s = v as Partial<ScopeRecord>;
    if (typeof s !== 'object' || s === null || typeof s.consecutiveFailures !== 'number') continue;
    const trip = s.tripped as Partial<BreakerTrip> | undefined;
    scopes[key] = {
      consecutiveFailures: s.consecutiveFailures,
      failures: Array.isArray(s.failures) ? s.failures.filter((x): x is string => typeof x === 'string') : [],
      updatedAt: typeof s.updatedAt === 'string' ? s.updatedAt : '',
      ...(trip && typeof trip.id === 'string'
        ? {
            tripped: {
              id: trip.id,
              trippedAt: typeof trip.trippedAt === 'string' ? trip.trippedAt : '',
              failures: typeof trip.failures === 'number' ? trip.failures : 0,
              outcomes: Array.isArray(trip.outcomes) ? trip.outcomes.filter((x): x is string => typeof x === 'string') : [],
            },
          }
        : {}),
    };
  }
  return { version: 1, scopes };
}

export interface StoredState {
  state: BreakerState;
  /** The ConfigMap's resourceVersion; undefined when it does not exist yet. */
  resourceVersion?: string;
}

export interface BreakerStore {
  read(): Promise<StoredState>;
  /** Writes `state` if the stored one is still `resourceVersion` (create when undefined); throws `conflict` otherwise. */
  write(state: BreakerState, resourceVersion: string | undefined): Promise<StoredState>;
}

export class KubeBreakerStore implements BreakerStore {
  #api: k8s.CoreV1Api;
  #namespace: string;

  constructor(kubeConfig: k8s.KubeConfig, namespace: string) {
    this.#api = kubeConfig.makeApiClient(k8s.CoreV1Api);
    this.#namespace = namespace;
  }

  async read(): Promise<StoredState> {
    try {
      const cm = await call(`read configmap ${this.#namespace}/${BREAKER_CONFIGMAP}`, () =>
        this.#api.readNamespacedConfigMap({ namespace: this.#namespace, name: BREAKER_CONFIGMAP }),
      );
      return { state: parseState(cm.data?.[DATA_KEY]), ...(cm.metadata?.resourceVersion ? { resourceVersion: cm.metadata.resourceVersion } : {}) };
    } catch (err) {
      if (err instanceof BelayError && err.code === 'not_found') return { state: emptyState() };
      throw err;
    }
  }

  async write(state: BreakerState, resourceVersion: string | undefined): Promise<StoredState> {
    const body: k8s.V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: BREAKER_CONFIGMAP,
        namespace: this.#namespace,
        labels: { 'app.kubernetes.io/managed-by': 'belay', 'app.kubernetes.io/component': 'outcomes' },
        annotations: { 'belay.dev/description': 'trust-ladder circuit breakers, written by the belay replica holding the outcomes lease (README "Outcomes")' },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      data: { [DATA_KEY]: JSON.stringify(state, null, 1) },
    };
    const written = resourceVersion
      ? await call(`update configmap ${this.#namespace}/${BREAKER_CONFIGMAP}`, () =>
          this.#api.replaceNamespacedConfigMap({ namespace: this.#namespace, name: BREAKER_CONFIGMAP, body }),
        )
      : await call(`create configmap ${this.#namespace}/${BREAKER_CONFIGMAP}`, () => this.#api.createNamespacedConfigMap({ namespace: this.#namespace, body }));
    return { state, ...(written.metadata?.resourceVersion ? { resourceVersion: written.metadata.resourceVersion } : {}) };
  }
}

/** A read-modify-write with compare-and-swap, retried when another writer got there first. */
export async function updateState<T>(
  store: BreakerStore,
  change: (state: BreakerState) => { state: BreakerState; result: T; changed: boolean },
  attempts = 5,
): Promise<{ stored: StoredState; result: T }> {
  for (let i = 0; ; i++) {
    const current = await store.read();
    const { state, result, changed } = change(current.state);
    if (!changed) return { stored: current, result };
    try {
      return { stored: await store.write(state, current.resourceVersion), result };
    } catch (err) {
      if (!(err instanceof BelayError && err.code === 'conflict') || i + 1 >= attempts) throw err;
    }
  }
}

/**
 * What every replica puts into policy input: the stored trips, read every
 * `intervalMs`. A failed read keeps the last known trips (a trip is never
 * forgotten because the API server blinked).
 */
export class BreakerView {
  #store: Pick<BreakerStore, 'read'>;
  #input: OutcomesInput = { breakers: {} };
  #timer: NodeJS.Timeout | undefined;
  #onError: (err: unknown) => void;

  constructor(store: Pick<BreakerStore, 'read'>, onError: (err: unknown) => void = () => {}) {
    this.#store = store;
    this.#onError = onError;
  }

  input(): OutcomesInput {
    return this.#input;
  }

  /** Sets what policy sees now (the leader, right after it wrote). */
  set(state: BreakerState): void {
    this.#input = breakerInput(state);
  }

  async refresh(): Promise<void> {
    try {
      this.set((await this.#store.read()).state);
    } catch (err) {
      this.#onError(err);
    }
  }

  start(intervalMs = 3_000): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
