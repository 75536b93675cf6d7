// Notifications in a running gateway: the configuration read and checked at
// start-up (each problem logged, shown in /readyz and counted; a channel
// configured wrong is left out, the gateway starts all the same), a sink per
// working channel, the outbox fed by the approvals controller, and who sends:
// the replica holding the approvals Lease in a cluster, the holder of a
// lease file in the state directory locally.

import path from 'node:path';
import type { Registry } from 'prom-client';
import type { ApprovalsNotifications } from '../approvals/runtime.js';
import type { ApprovalStore } from '../approvals/store.js';
import type { JsonObject } from '../contract/index.js';
import type { Logger } from '../observe/log.js';
import type { ChannelType, NotifyConfig } from './config.js';
import { FileLease } from './file-lease.js';
import { NotifyMetrics } from './metrics.js';
import { type ChannelState, Outbox } from './outbox.js';
import { namedChannels, type Routing, routingFromData } from './routing.js';
import { type Sink, sinkFor } from './sinks/index.js';

export interface NotifierOptions {
  config: NotifyConfig;
  /** The active bundle's data (its data.belay.config.notifications routes); undefined before one is active. */
  policyData: () => JsonObject | undefined;
  log: Logger;
  registry?: Registry;
  /** Local mode: the lease file goes here; absent in a cluster (the approvals Lease decides). */
  stateDir?: string;
  tickMs?: number;
  /** Local lease timing (tests). */
  lease?: { durationMs?: number; renewMs?: number };
  /** Start-up checks' time limit (SMTP login, Slack auth.test). */
  checkTimeoutMs?: number;
}

export interface ChannelHealth extends Partial<ChannelState> {
  name: string;
  type: ChannelType | 'unknown';
  ok: boolean;
  problem: string | null;
}

export interface NotifyHealth {
  enabled: true;
  /** Whether this replica is the one sending. */
  sending: boolean;
  consoleUrl: string | null;
  channels: ChannelHealth[];
  /** The configuration file's own problems. */
  problems: string[];
  /** The routing's problems, and routes naming channels that are not configured. */
  routing: { problems: string[]; unknownChannels: string[] };
}

export interface Notifier {
  /** Given to startApprovals (src/approvals/runtime.ts) with the store the outbox records deliveries in. */
  hook(store: Pick<ApprovalStore, 'get' | 'replaceStatus'>): ApprovalsNotifications;
  health(): NotifyHealth;
  close(): Promise<void>;
}

export const LEASE_FILE = 'notifications.lease';

export function startNotifier(o: NotifierOptions): Notifier {
  const { config, log } = o;
  const metrics = o.registry ? new NotifyMetrics(o.registry) : undefined;
  const problems = new Map<string, string>();
  for (const p of config.problems) {
    log.error(
      { channel: p.channel, problem: p.message },
      p.channel ? 'notifications: channel configured wrong; it is left out' : 'notifications: configuration problem',
    );
    if (p.channel) {
      problems.set(p.channel, p.message);
      metrics?.misconfigured.set({ channel: p.channel }, 1);
    }
  }
  const sinks = new Map<string, Sink>();
  for (const c of config.channels) {
    sinks.set(c.name, sinkFor(c, config.source));
    metrics?.misconfigured.set({ channel: c.name }, 0);
  }
  const types = new Map<string, ChannelType>(config.channels.map((c) => [c.name, c.type]));
  // Checks that need the network run in the background: start-up never waits on a sink.
  const checks = new Map<string, string>();
  for (const sink of sinks.values()) {
    if (!sink.check) continue;
    void sink.check(AbortSignal.timeout(o.checkTimeoutMs ?? 10_000)).then(
      (problem) => {
        if (!problem) return;
        checks.set(sink.name, problem);
        metrics?.misconfigured.set({ channel: sink.name }, 1);
        log.error({ channel: sink.name, problem }, 'notifications: channel check failed at start-up');
      },
      () => undefined,
    );
  }
  log.info(
    { channels: config.channels.map((c) => `${c.name} (${c.type})`), consoleUrl: config.consoleUrl, wrong: [...problems.keys()] },
    'notifications configured',
  );

  // The routing follows the active bundle; its problems are logged once per bundle.
  let seen: { data: JsonObject | undefined; routing: Routing } | undefined;
  const routing = (): Routing => {
    const data = o.policyData();
    if (seen && seen.data === data) return seen.routing;
    const r = routingFromData(data);
    seen = { data, routing: r };
    const unknown = namedChannels(r).filter((c) => !sinks.has(c));
    if (r.problems.length || unknown.length) log.warn({ problems: r.problems, unknownChannels: unknown }, 'notifications: the bundle’s routing has problems');
    return r;
  };

  let outbox: Outbox | undefined;
  let lease: FileLease | undefined;
  return {
    hook(store) {
      const box = new Outbox({
        store,
        sinks,
        timeouts: new Map(config.channels.map((c) => [c.name, c.timeoutMs])),
        routing,
        delivery: config.delivery,
        consoleUrl: config.consoleUrl,
        log,
        ...(metrics ? { metrics } : {}),
        ...(o.tickMs ? { tickMs: o.tickMs } : {}),
      });
      outbox = box;
      return {
        listener: box,
        lead() {
          if (!o.stateDir) return box.activate();
          lease ??= new FileLease(path.join(o.stateDir, LEASE_FILE), {
            ...o.lease,
            log,
            onStartedLeading: () => box.activate(),
            onStoppedLeading: () => void box.deactivate(),
          });
          lease.start();
        },
        async unlead() {
          lease?.stop();
          await box.deactivate();
        },
      };
    },
    health() {
      const r = routing();
      const channels: ChannelHealth[] = [...new Set([...config.channels.map((c) => c.name), ...problems.keys()])].map((name) => {
        const problem = problems.get(name) ?? checks.get(name) ?? null;
        const state = sinks.has(name) && outbox ? outbox.channelState(name) : undefined;
        const refused = state?.lastErrorKind === 'misconfigured' ? state.lastError : null;
        return {
          name,
          type: types.get(name) ?? 'unknown',
          ok: !problem && !refused,
          problem: problem ?? refused,
          ...(state ?? {}),
        };
      });
      return {
        enabled: true,
        sending: outbox?.active ?? false,
        consoleUrl: config.consoleUrl,
        channels,
        problems: config.problems.filter((p) => !p.channel).map((p) => p.message),
        routing: { problems: [...r.problems], unknownChannels: namedChannels(r).filter((c) => !sinks.has(c)) },
      };
    },
    async close() {
      lease?.stop();
      await outbox?.deactivate();
      for (const s of sinks.values()) s.close?.();
    },
  };
}
