// What /readyz reports beyond the active bundle: how the gateway runs (mode,
// approval store, identity, TLS, configuration overlay) and every condition
// that keeps it from being ready (RBAC it lacks, no certificate loaded yet, no
// usable overlay). Each part registers a check; a check returns why it is not
// ready, or undefined.

export type Check = () => string | undefined;

export class Readiness {
  readonly #checks = new Map<string, Check>();
  readonly #facts = new Map<string, () => unknown>();

  /** A condition for readiness: `check` says why not, or undefined when met. */
  require(name: string, check: Check): this {
    this.#checks.set(name, check);
    return this;
  }

  /** A fact /readyz reports (mode, store, identity…), read when asked. */
  report(name: string, value: () => unknown): this {
    this.#facts.set(name, value);
    return this;
  }

  /** The unmet conditions, by name. */
  problems(): { check: string; reason: string }[] {
    const out: { check: string; reason: string }[] = [];
    for (const [check, fn] of this.#checks) {
      let reason: string | undefined;
      try {
        reason = fn();
      } catch (err) {
        reason = `check failed: ${(err as Error).message}`;
      }
      if (reason) out.push({ check, reason });
    }
    return out;
  }

  /** What each part reports; a report that throws is left out (it must never take /readyz down with it). */
  facts(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, fn] of this.#facts) {
      try {
        out[k] = fn();
      } catch {
        // left out
      }
    }
    return out;
  }
}
