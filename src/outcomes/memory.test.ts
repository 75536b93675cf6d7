// The watcher's memory is bounded by its watch limit, not by the records:
// thousands of watched changes, each record carrying a rollback source, cost
// a small fixed amount each, a record past the limit ends Unknown at once,
// and reads stay within the rate limit however many changes are watched.
// The figures printed here are the ones README "Outcomes" quotes.

import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../contract/index.js';
import { namesOnly } from '../namespaces/directory.js';
import { silentLogger } from '../observe/log.js';
import { agentInput, watchedDecision } from '../testkit/outcomes.js';
import { deployment } from '../testkit/workloads.js';
import { OutcomeController } from './controller.js';
import { outcomeRecord } from './record.js';
import type { OutcomeRecord } from './resource.js';
import type { OutcomeStore } from './store.js';
import type { Snapshot } from './watch.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A record as the recorder writes it: a ~3 KiB Deployment kept as its rollback source. */
function record(i: number): OutcomeRecord {
  const before = deployment({ name: `web-${i}`, replicas: 2 });
  (before.metadata as JsonObject).annotations = { note: 'x'.repeat(2_000) };
  const after = structuredClone(before);
  (after.spec as JsonObject).replicas = 3;
  const input = agentInput(after, before, {
    actor: { username: 'system:serviceaccount:agents:bot', groups: [], extra: {}, agent: true, serviceAccount: null },
    resource: { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'team-a', name: `web-${i}` },
  });
  const r = outcomeRecord({ uid: `uid-${i}`, stage: 'validate', input, decision: watchedDecision(), revision: 'r' }, { namespace: 'belay', now: new Date() })!;
  return { ...r, metadata: { ...r.metadata, name: `outcome-${i}` } };
}

const progressing: Snapshot = {
  present: true,
  uid: 'dep-uid',
  generation: 1,
  deleting: false,
  specDigest: 'x',
  health: { state: 'progressing', evidence: [], notReady: [] },
};

/** A controller over a store that keeps nothing (or, with `stored`, answers reads from it), and a reader that counts. */
function controller(maxWatches: number, reads: { n: number }, mono: { t: number }, stored?: Map<string, OutcomeRecord>) {
  const writes: OutcomeRecord[] = [];
  const store: OutcomeStore = {
    create: async (r) => ({ record: r, created: true }),
    get: async (_ns, name) => stored?.get(name),
    replace: async (r) => r,
    replaceStatus: async (r) => {
      writes.push(r);
      return r;
    },
    setState: async () => {},
    list: async () => ({ items: [] }),
    delete: async () => true,
  };
  const c = new OutcomeController({
    store,
    reader: {
      snapshot: async () => {
        reads.n++;
        return progressing;
      },
      get: async () => undefined,
    },
    approvals: {
      get: async () => undefined,
      replaceStatus: async (r) => r,
      listByTarget: async () => [],
      create: async (r) => ({ request: r, created: true }),
    },
    policy: () => undefined,
    namespaces: namesOnly,
    log: silentLogger,
    identity: 'replica-1',
    namespace: 'belay',
    mono: () => mono.t,
    limits: { maxWatches, readsPerSecond: 20, concurrency: 4, pollIntervalMs: 2_000 },
  });
  return { c, writes };
}

let running: OutcomeController | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

describe('the watcher under thousands of watched changes', () => {
  it('keeps about a kilobyte per watch, whatever the records carry', async () => {
    const figures: string[] = [];
    for (const n of [1_000, 5_000, 10_000]) {
      const records = Array.from({ length: n }, (_, i) => record(i));
      const recordBytes = Buffer.byteLength(JSON.stringify(records[0]));
      const { c } = controller(n, { n: 0 }, { t: 0 });
      running = c;
      gc();
      const before = process.memoryUsage().heapUsed;
      for (const r of records) c.admit(r);
      await c.flush();
      gc();
      const perWatch = (process.memoryUsage().heapUsed - before) / n;
      expect(c.size).toBe(n);
      figures.push(`${n} watches: ${Math.round(perWatch)} bytes each (records of ${recordBytes} bytes)`);
      // The bound README states: well under the record's size, under 4 KiB a watch.
      expect(perWatch).toBeLessThan(4 * 1024);
      await c.stop();
      running = undefined;
    }
    process.stdout.write(`outcome watcher memory: ${figures.join('; ')}\n`);
  }, 120_000);

  it('a record past the limit ends Unknown (Overloaded) at once and holds nothing', async () => {
    const records = Array.from({ length: 150 }, (_, i) => record(i));
    const { c, writes } = controller(100, { n: 0 }, { t: 0 }, new Map(records.map((r) => [r.metadata.name, r])));
    running = c;
    for (const r of records) c.admit(r);
    await c.flush();
    expect(c.size).toBe(100);
    const ended = writes.filter((w) => w.status?.result !== 'Watching');
    expect(ended).toHaveLength(50);
    expect(ended.every((w) => w.status?.result === 'Unknown' && w.status.reason === 'Overloaded')).toBe(true);
    expect(ended.map((w) => w.metadata.name)).toEqual(records.slice(100).map((r) => r.metadata.name));
  });

  it('reads stay within the rate limit, however many changes are watched', async () => {
    const reads = { n: 0 };
    const mono = { t: 0 };
    const { c } = controller(5_000, reads, mono);
    running = c;
    for (let i = 0; i < 5_000; i++) c.admit(record(i));
    // Ten seconds of ticks, every 250ms.
    for (let t = 0; t < 10_000; t += 250) {
      mono.t = t;
      c.tick();
      await c.flush();
    }
    expect(reads.n).toBeGreaterThan(100);
    expect(reads.n).toBeLessThanOrEqual(20 * 10 + 20);
  });
});
