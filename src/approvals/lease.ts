// Leader election on a coordination.k8s.io Lease, after client-go's
// leaderelection: one replica holds the lease and renews it; the others take
// it over once it has not been renewed for its duration. Expiry sweeps and
// approval events run only on the holder, so several gateway replicas never
// expire a request twice or report one decision twice.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../observe/log.js';
import { call } from './kube-store.js';

export interface LeaseOptions {
  namespace: string;
  name: string;
  /** This replica's identity in the lease (holderIdentity). */
  identity?: string;
  /** How long a lease lasts without renewal (client-go: 15s). */
  durationMs?: number;
  /** How often the holder renews, and others retry (client-go: retry period 2s). */
  retryMs?: number;
  /** A holder that could not renew for this long stops leading (client-go: renew deadline 10s). */
  renewDeadlineMs?: number;
  log?: Logger;
  /** What the holder does, for log lines ("approval expiry", "outcome watching", "certificate rotation"). */
  purpose?: string;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

/** A Lease this process takes part in, and whether it holds it (belay_lease_holder). */
export interface LeaseState {
  readonly lease: string;
  readonly purpose: string;
  readonly identity: string;
  readonly leading: boolean;
}

const running = new Set<LeaseElector>();

/** Every elector of this process that is started: for the Lease-holder metric. */
export function leaseStates(): LeaseState[] {
  return [...running].map((e) => e.state());
}

export class LeaseElector {
  readonly identity: string;
  #api: k8s.CoordinationV1Api;
  #options: Required<Omit<LeaseOptions, 'log' | 'purpose'>> & { log?: Logger; purpose?: string };
  #leading = false;
  #lastRenew = 0;
  /** When this replica last saw the lease change, by its own clock (never compare other clocks). */
  #observed: { version: string; at: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();

  constructor(kubeConfig: k8s.KubeConfig, options: LeaseOptions) {
    this.#api = kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.identity = options.identity ?? `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
    this.#options = { durationMs: 15_000, retryMs: 2_000, renewDeadlineMs: 10_000, purpose: 'approval expiry', ...options, identity: this.identity };
  }

  get leading(): boolean {
    return this.#leading;
  }

  state(): LeaseState {
    return {
      lease: `${this.#options.namespace}/${this.#options.name}`,
      purpose: this.#options.purpose ?? 'approval expiry',
      identity: this.identity,
      leading: this.#leading,
    };
  }

  start(): void {
    this.#stopped = false;
    running.add(this);
    this.#schedule(0);
  }

  /** Stops trying, and hands the lease back so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    running.delete(this);
    clearTimeout(this.#timer);
    await this.#running;
    if (this.#leading) {
      this.#setLeading(false);
      await this.#release().catch((err) => this.#options.log?.warn({ err }, `could not release the ${this.#options.purpose} lease`));
    }
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#tick().finally(() => this.#schedule(this.#options.retryMs));
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    try {
      const ok = await this.#tryAcquireOrRenew();
      if (ok) {
        this.#lastRenew = Date.now();
        if (!this.#leading) this.#setLeading(true);
        return;
      }
    } catch (err) {
      this.#options.log?.warn({ err: (err as Error).message }, `${this.#options.purpose} lease: acquire or renew failed`);
    }
    if (this.#leading && Date.now() - this.#lastRenew > this.#options.renewDeadlineMs) this.#setLeading(false);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, durationMs } = this.#options;
    const now = new k8s.V1MicroTime();
    let lease: k8s.V1Lease;
    try {
      lease = await call(`read lease ${namespace}/${name}`, () => this.#api.readNamespacedLease({ namespace, name }));
    } catch (err) {
      if ((err as { code?: string }).code !== 'not_found') throw err;
      await call(`create lease ${namespace}/${name}`, () =>
        this.#api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: this.identity, leaseDurationSeconds: Math.ceil(durationMs / 1000), acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        }),
      ).catch((e: { code?: string }) => {
        if (e.code === 'conflict') return undefined; // someone else created it first
        throw e;
      });
      return this.#confirm(namespace, name);
    }

    const spec = lease.spec ?? {};
    const version = lease.metadata?.resourceVersion ?? '';
    if (this.#observed?.version !== version) this.#observed = { version, at: Date.now() };
    const holder = spec.holderIdentity ?? '';
    const duration = (spec.leaseDurationSeconds ?? Math.ceil(durationMs / 1000)) * 1000;
    const heldByOther = holder !== '' && holder !== this.identity && Date.now() - this.#observed.at < duration;
    if (heldByOther) return false;

    const taking = holder !== this.identity;
    const body: k8s.V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(durationMs / 1000),
        renewTime: now,
        ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      },
    };
    try {
      const updated = await call(`update lease ${namespace}/${name}`, () => this.#api.replaceNamespacedLease({ namespace, name, body }));
      this.#observed = { version: updated.metadata?.resourceVersion ?? '', at: Date.now() };
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'conflict') return false; // another replica won this round
      throw err;
    }
  }

  async #confirm(namespace: string, name: string): Promise<boolean> {
    const lease = await call(`read lease ${namespace}/${name}`, () => this.#api.readNamespacedLease({ namespace, name }));
    this.#observed = { version: lease.metadata?.resourceVersion ?? '', at: Date.now() };
    return lease.spec?.holderIdentity === this.identity;
  }

  async #release(): Promise<void> {
    const { namespace, name } = this.#options;
    const lease = await call(`read lease ${namespace}/${name}`, () => this.#api.readNamespacedLease({ namespace, name }));
    if (lease.spec?.holderIdentity !== this.identity) return;
    const body: k8s.V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new k8s.V1MicroTime() } };
    await call(`release lease ${namespace}/${name}`, () => this.#api.replaceNamespacedLease({ namespace, name, body }));
  }

  #setLeading(leading: boolean): void {
    this.#leading = leading;
    this.#options.log?.info(
      { lease: `${this.#options.namespace}/${this.#options.name}`, identity: this.identity },
      leading ? `leading ${this.#options.purpose}` : `stopped leading ${this.#options.purpose}`,
    );
    try {
      if (leading) this.#options.onStartedLeading();
      else this.#options.onStoppedLeading();
    } catch (err) {
      this.#options.log?.error({ err }, `${this.#options.purpose} leader callback failed`);
    }
  }
}
