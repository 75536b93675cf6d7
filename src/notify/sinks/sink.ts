// What every sink is to the outbox: send one notification, or fail saying
// whether trying again can help. `transient` (timeouts, 5xx, 429, a refused
// connection) is retried with backoff; `misconfigured` (a bad token, a hook
// that does not exist) is retried too, since an operator may fix the Secret,
// and marks the channel unhealthy in /readyz; `permanent` (the sink refused
// this message as malformed or too large) is dropped at once.

import type { ChannelType } from '../config.js';
import type { Notification } from '../view.js';

export type FailureKind = 'transient' | 'misconfigured' | 'permanent';

export class DeliveryError extends Error {
  readonly kind: FailureKind;
  /** The sink asked to wait this long (Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(kind: FailureKind, message: string, retryAfterMs?: number) {
    super(message);
    this.name = 'DeliveryError';
    this.kind = kind;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface Sink {
  readonly name: string;
  readonly type: ChannelType;
  /** Delivers it, or throws a DeliveryError; gives up when `signal` aborts (the delivery's timeout). */
  send(n: Notification, signal: AbortSignal): Promise<void>;
  /** A start-up check that needs the network (SMTP login, Slack auth.test): a problem, or null. */
  check?(signal: AbortSignal): Promise<string | null>;
  close?(): void;
}

/** Any failure as a DeliveryError: unknown errors count as transient (the network, most likely). */
export function asDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR') return new DeliveryError('transient', 'timed out');
  return new DeliveryError('transient', e?.code ? `${e.code}: ${e.message ?? ''}`.trim() : (e?.message ?? String(err)));
}
