// The active bundle: compiled once at activation, swapped atomically, and kept
// when a newer bundle turns out bad. A request takes one snapshot and uses it
// throughout, so no request ever mixes two revisions. A configuration overlay
// (overlay.ts) is laid over every bundle's data at activation; a new overlay
// re-activates the serving bundle with it, the same atomic swap.

import type { JsonObject } from '../contract/index.js';
import { asBelayError, BelayError } from '../errors.js';
import { type AgentSelector, agentSelectorFromData } from '../identity/agents.js';
import { type Evaluator, inProcessEvaluator, type PrepareEvaluator } from '../policy/evaluator.js';
import type { Bundle } from './bundle.js';
import { type ConfigOverlay, overlayData, revisionStamp } from './overlay.js';

export interface ActivePolicy {
  /** What every decision is stamped with: the bundle's revision, and the overlay's digest beside it (overlay.ts). */
  readonly revision: string;
  /** The bundle's own revision (its .manifest). */
  readonly bundleRevision: string;
  /** sha256 of the configuration overlay laid over the bundle's data; null without one. */
  readonly configDigest: string | null;
  readonly digest: string;
  readonly agents: AgentSelector;
  readonly data: JsonObject;
  readonly evaluator: Evaluator;
  readonly source: string;
  readonly activatedAt: Date;
}

export interface ActivationFailure {
  readonly source: string;
  readonly message: string;
  readonly at: Date;
}

export type ActivationListener = (
  event: { active: ActivePolicy; previous?: ActivePolicy } | { failure: ActivationFailure } | { recovered: ActivePolicy },
) => void;

export interface PolicyStoreOptions {
  /** Activate nothing until setOverlay has given one (an overlay is configured but not read yet). */
  overlayRequired?: boolean;
}

export class PolicyStore {
  #active: ActivePolicy | undefined;
  /** The bundle serving now (or waiting for an overlay), as it came from its source. */
  #bundle: { bundle: Bundle; source: string } | undefined;
  #overlay: ConfigOverlay | undefined;
  #overlayRequired: boolean;
  #lastFailure: ActivationFailure | undefined;
  #prepare: PrepareEvaluator;
  #listeners: ActivationListener[] = [];
  /** Activations run one at a time, in the order they were asked for. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(prepare: PrepareEvaluator = inProcessEvaluator(), options: PolicyStoreOptions = {}) {
    this.#prepare = prepare;
    this.#overlayRequired = options.overlayRequired === true;
  }

  /** True while a bundle waits for the configuration overlay to be activated with. */
  get waiting(): boolean {
    return this.#bundle !== undefined && this.#active === undefined;
  }

  /** The overlay laid over every bundle, when one was given. */
  get overlay(): ConfigOverlay | undefined {
    return this.#overlay;
  }

  /**
   * Lays `overlay` over every bundle from now on, and re-activates the
   * serving bundle (or the one that waited for an overlay) with it. When that
   * fails, the previous activation keeps serving and the failure is recorded.
   */
  setOverlay(overlay: ConfigOverlay): Promise<ActivePolicy | undefined> {
    const run = this.#queue.then(async () => {
      const previous = this.#overlay;
      this.#overlay = overlay;
      if (!this.#bundle) return undefined;
      try {
        return await this.#activate(this.#bundle.bundle, this.#bundle.source);
      } catch (err) {
        // The serving bundle keeps the overlay it was activated with.
        this.#overlay = previous;
        throw err;
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** The bundle serving now, or undefined before the first activation. */
  current(): ActivePolicy | undefined {
    return this.#active;
  }

  get lastFailure(): ActivationFailure | undefined {
    return this.#lastFailure;
  }

  onChange(listener: ActivationListener): void {
    this.#listeners.push(listener);
  }

  /**
   * Records a bundle refused before it could be prepared (unreadable,
   * unsigned, tampered): reported like a failed activation, and the active
   * bundle keeps serving.
   */
  refuse(source: string, err: unknown): void {
    const failure = { source, message: asBelayError(err, 'bundle_invalid').message, at: new Date() };
    this.#lastFailure = failure;
    for (const l of this.#listeners) l({ failure });
  }

  /**
   * The source serves the bundle that is active already (after a bad one was
   * refused): nothing to swap, and the refusal is over — /readyz and the
   * failure metric clear, as they would for a new good bundle.
   */
  reaffirm(): void {
    const active = this.#active;
    if (!active || !this.#lastFailure) return;
    this.#lastFailure = undefined;
    for (const l of this.#listeners) l({ recovered: active });
  }

  /**
   * Prepares `bundle` and makes it the active one. On failure the previous
   * bundle keeps serving, the failure is recorded, and the error is rethrown.
   */
  activate(bundle: Bundle, source: string): Promise<ActivePolicy> {
    const run = this.#queue.then(() => this.#activate(bundle, source));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #activate(bundle: Bundle, source: string): Promise<ActivePolicy> {
    const overlay = this.#overlay;
    if (this.#overlayRequired && !overlay) {
      // Nothing serves without the installation's overlay (who is an agent may differ).
      this.#bundle = { bundle, source };
      const failure = { source, message: 'waiting for a usable configuration overlay before activating the bundle', at: new Date() };
      this.#lastFailure = failure;
      for (const l of this.#listeners) l({ failure });
      throw new BelayError('not_ready', failure.message);
    }
    const data = overlay ? overlayData(bundle.data, overlay) : bundle.data;
    let evaluator: Evaluator;
    try {
      evaluator = await this.#prepare(overlay ? { ...bundle, data } : bundle);
    } catch (err) {
      const failure = { source, message: asBelayError(err, 'bundle_invalid').message, at: new Date() };
      this.#lastFailure = failure;
      for (const l of this.#listeners) l({ failure });
      throw asBelayError(err, 'bundle_invalid');
    }
    const previous = this.#active;
    const active: ActivePolicy = {
      revision: revisionStamp(bundle.manifest.revision, overlay),
      bundleRevision: bundle.manifest.revision,
      configDigest: overlay?.digest ?? null,
      digest: bundle.digest,
      agents: agentSelectorFromData(data),
      data,
      evaluator,
      source,
      activatedAt: new Date(),
    };
    this.#active = active;
    this.#bundle = { bundle, source };
    this.#lastFailure = undefined;
    for (const l of this.#listeners) l(previous ? { active, previous } : { active });
    // Requests already holding the previous snapshot finish on it; give them time before releasing it.
    if (previous) setTimeout(() => void previous.evaluator.close(), 30_000).unref();
    return active;
  }

  async close(): Promise<void> {
    await this.#active?.evaluator.close();
  }
}
