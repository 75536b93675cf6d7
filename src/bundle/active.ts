// The active bundle: compiled once at activation, swapped atomically, and kept
// when a newer bundle turns out bad. A request takes one snapshot and uses it
// throughout, so no request ever mixes two revisions.

import type { JsonObject } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import { type AgentSelector, agentSelectorFromData } from '../identity/agents.js';
import { type Evaluator, inProcessEvaluator, type PrepareEvaluator } from '../policy/evaluator.js';
import type { Bundle } from './bundle.js';

export interface ActivePolicy {
  readonly revision: string;
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

export class PolicyStore {
  #active: ActivePolicy | undefined;
  #lastFailure: ActivationFailure | undefined;
  #prepare: PrepareEvaluator;
  #listeners: ActivationListener[] = [];
  /** Activations run one at a time, in the order they were asked for. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(prepare: PrepareEvaluator = inProcessEvaluator()) {
    this.#prepare = prepare;
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
    let evaluator: Evaluator;
    try {
      evaluator = await this.#prepare(bundle);
    } catch (err) {
      const failure = { source, message: asBelayError(err, 'bundle_invalid').message, at: new Date() };
      this.#lastFailure = failure;
      for (const l of this.#listeners) l({ failure });
      throw asBelayError(err, 'bundle_invalid');
    }
    const previous = this.#active;
    const active: ActivePolicy = {
      revision: bundle.manifest.revision,
      digest: bundle.digest,
      agents: agentSelectorFromData(bundle.data),
      data: bundle.data,
      evaluator,
      source,
      activatedAt: new Date(),
    };
    this.#active = active;
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
