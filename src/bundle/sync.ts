// Keeps the policy store fed from a bundle source: each update is read,
// verified and parsed (source.ts), then activated — an atomic swap between
// requests (active.ts). A bundle that fails any step is refused and recorded;
// the last good one keeps serving. The sync owns this state, as OPA's bundle
// plugin does; sources only download.

import type { PolicyStore } from './active.js';
import type { ArchiveLimits } from './archive.js';
import { type BundleSource, type BundleUpdate, loadBundle } from './source.js';
import type { VerificationConfig, VerifiedSignature } from './verify.js';

export interface SyncOptions {
  store: PolicyStore;
  source: BundleSource;
  verification?: VerificationConfig | null;
  limits?: ArchiveLimits;
  /** Told about every verified bundle before it is activated (for the log). */
  onVerified?: (event: { origin: string; revision: string; digest: string; signature: VerifiedSignature | null }) => void;
}

export interface SyncStatus {
  source: string;
  /** Updates handled, activations that took, refusals. */
  updates: number;
  activated: number;
  refused: number;
  /** The signature of the bundle serving now (null: unsigned). */
  signature: VerifiedSignature | null;
}

export class BundleSync {
  readonly #options: SyncOptions;
  #status: SyncStatus;

  constructor(options: SyncOptions) {
    this.#options = options;
    this.#status = { source: options.source.description, updates: 0, activated: 0, refused: 0, signature: null };
  }

  get status(): Readonly<SyncStatus> {
    return this.#status;
  }

  /** Starts the source; resolves once its first update was handled (activated or refused). */
  start(): Promise<void> {
    return this.#options.source.start((update) => this.#handle(update));
  }

  stop(): Promise<void> {
    return this.#options.source.stop();
  }

  async #handle(update: BundleUpdate): Promise<void> {
    const { store } = this.#options;
    this.#status.updates++;
    if ('error' in update) {
      this.#status.refused++;
      store.refuse(update.origin, update.error);
      return;
    }
    let loaded: Awaited<ReturnType<typeof loadBundle>>;
    try {
      loaded = await loadBundle(update, {
        verification: this.#options.verification ?? null,
        ...(this.#options.limits ? { limits: this.#options.limits } : {}),
      });
    } catch (err) {
      this.#status.refused++;
      store.refuse(update.origin, err);
      return;
    }
    const { bundle, signature } = loaded;
    // Same bytes as the serving bundle (a touched file, a re-sent ETag, the good one back after a bad one): nothing to swap.
    if (store.current()?.digest === bundle.digest) {
      store.reaffirm();
      return;
    }
    this.#options.onVerified?.({ origin: update.origin, revision: bundle.manifest.revision, digest: bundle.digest, signature });
    try {
      await store.activate(bundle, update.origin);
    } catch {
      // The store recorded the failure (and told its listeners); the previous bundle keeps serving.
      this.#status.refused++;
      return;
    }
    this.#status.activated++;
    this.#status.signature = signature;
  }
}
