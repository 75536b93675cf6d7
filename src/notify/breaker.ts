// A circuit breaker per channel: after `failures` deliveries in a row fail,
// the channel is left alone for `cooldownMs` (its queued notifications wait,
// nothing is lost), then one trial delivery decides whether it closes again
// or waits another cooldown. Keeps a dead sink from costing a connection
// attempt per notification, and its log from filling with the same error.

export type BreakerState = 'closed' | 'open' | 'half-open';

export class Breaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  #failures = 0;
  #openedAt: number | undefined;
  #trial = false;

  constructor(threshold: number, cooldownMs: number) {
    this.#threshold = Math.max(1, threshold);
    this.#cooldownMs = cooldownMs;
  }

  state(now: number): BreakerState {
    if (this.#openedAt === undefined) return 'closed';
    return now - this.#openedAt >= this.#cooldownMs ? 'half-open' : 'open';
  }

  /** When an open breaker lets a trial through (undefined when closed). */
  get reopensAt(): number | undefined {
    return this.#openedAt === undefined ? undefined : this.#openedAt + this.#cooldownMs;
  }

  /** Whether a delivery may start now; half-open lets one trial at a time through. */
  allow(now: number): boolean {
    const s = this.state(now);
    if (s === 'closed') return true;
    if (s === 'open' || this.#trial) return false;
    this.#trial = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#openedAt = undefined;
    this.#trial = false;
  }

  /** Returns true when this failure opened (or re-opened) the breaker. */
  failure(now: number): boolean {
    this.#failures++;
    const wasTrial = this.#trial;
    this.#trial = false;
    if (wasTrial || (this.#openedAt === undefined && this.#failures >= this.#threshold)) {
      this.#openedAt = now;
      return true;
    }
    return false;
  }
}
