// Whether the API server answers: a gateway that cannot reach it cannot use
// or create approvals, read namespace labels or check tokens, so it is not
// ready (its replicas elsewhere, or the webhook's failure policy, answer
// instead). Asked every `intervalMs` (GET /version, open to every
// authenticated client); `failures` misses in a row make it a problem, one
// answer clears it.

import * as k8s from '@kubernetes/client-node';
import type { Logger } from '../src/observe/log.js';

export interface ApiServerWatch {
  /** Why the gateway is not ready for want of the API server; undefined while it answers. */
  problem(): string | undefined;
  close(): void;
}

export interface ApiServerWatchOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /** Misses in a row before the gateway turns unready. */
  failures?: number;
  log?: Logger;
  /** How the API server is asked (tests); default GET /version. */
  ask?: () => Promise<unknown>;
}

export function watchApiServer(kc: k8s.KubeConfig, options: ApiServerWatchOptions = {}): ApiServerWatch {
  const { intervalMs = 5_000, timeoutMs = 3_000, failures = 2, log } = options;
  const version = options.ask ? undefined : kc.makeApiClient(k8s.VersionApi);
  const ask = options.ask ?? (() => version!.getCode());
  const server = kc.getCurrentCluster()?.server ?? 'the API server';
  let missed = 0;
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const tick = async (): Promise<void> => {
    let t: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ask(),
        new Promise((_, reject) => {
          t = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (missed >= failures) log?.info({ server }, 'the API server answers again; ready');
      missed = 0;
    } catch (err) {
      missed++;
      lastError = (err as Error).message;
      if (missed === failures) log?.error({ server, err: lastError }, 'the API server does not answer; not ready until it does');
    } finally {
      clearTimeout(t);
      if (!closed) {
        timer = setTimeout(() => void tick(), intervalMs);
        timer.unref();
      }
    }
  };
  void tick();
  return {
    problem: () => (missed >= failures ? `the API server (${server}) does not answer: ${lastError}` : undefined),
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
