// The trust breaker: counting automated outcomes per scope, tripping at the
// threshold, undone only by an acknowledgement in policy data, and kept in a
// ConfigMap every replica reads.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeKube, startFakeKube } from '../testkit/fake-kube.js';
import {
  acknowledge,
  BREAKER_CONFIGMAP,
  type BreakerState,
  BreakerView,
  breakerInput,
  breakerKey,
  breakerSettings,
  emptyState,
  KubeBreakerStore,
  MAX_SCOPES,
  parseState,
  recordOutcome,
  updateState,
} from './breaker.js';

const now = new Date('2026-12-06T10:00:00Z');
const key = 'workflow:restart-pod-v1';

function fail(state: BreakerState, n: number, k = key): { state: BreakerState; trips: string[] } {
  const trips: string[] = [];
  for (let i = 0; i < n; i++) {
    const next = recordOutcome(state, k, 'Failed', `team-a/outcome-${i}`, now, 3);
    state = next.state;
    if (next.tripped) trips.push(next.tripped.id);
  }
  return { state, trips };
}

describe('breaker state', () => {
  it('counts only automated changes, by the scope that graduated them', () => {
    expect(breakerKey({ mode: 'automate', scope: 'workflow', subject: 'restart-pod-v1' })).toBe(key);
    expect(breakerKey({ mode: 'automate', scope: 'global', subject: '' })).toBe('global:');
    expect(breakerKey({ mode: 'approve', scope: 'workflow', subject: 'restart-pod-v1' })).toBeUndefined();
    expect(breakerKey(undefined)).toBeUndefined();
  });

  it('trips once at the threshold of failures in a row, with the failed outcomes', () => {
    const { state, trips } = fail(emptyState(), 5);
    expect(trips).toEqual(['workflow:restart-pod-v1@2026-12-06T10:00:00Z']);
    expect(breakerInput(state).breakers[key]).toEqual({
      id: 'workflow:restart-pod-v1@2026-12-06T10:00:00Z',
      trippedAt: '2026-12-06T10:00:00Z',
      failures: 3,
      outcomes: ['team-a/outcome-0', 'team-a/outcome-1', 'team-a/outcome-2'],
    });
  });

  it('a success resets the count, but never a trip; Unknown changes nothing', () => {
    let { state } = fail(emptyState(), 2);
    state = recordOutcome(state, key, 'Unknown', 'x', now, 3).state;
    expect(state.scopes[key]!.consecutiveFailures).toBe(2);
    state = recordOutcome(state, key, 'Succeeded', 'y', now, 3).state;
    expect(state.scopes[key]).toBeUndefined();
    const tripped = fail(emptyState(), 3).state;
    const after = recordOutcome(tripped, key, 'Succeeded', 'z', now, 3).state;
    expect(breakerInput(after).breakers[key]).toBeDefined();
  });

  it('only an acknowledgement of the trip id undoes it', () => {
    const { state, trips } = fail(emptyState(), 3);
    expect(acknowledge(state, new Set(['workflow:restart-pod-v1@other'])).reset).toEqual([]);
    const done = acknowledge(state, new Set(trips));
    expect(done.reset.map((t) => t.id)).toEqual(trips);
    expect(breakerInput(done.state).breakers).toEqual({});
  });

  it('is bounded: the oldest untripped scopes go first, trips stay', () => {
    let state = fail(emptyState(), 3, 'workflow:tripped').state;
    for (let i = 0; i < MAX_SCOPES + 50; i++) state = recordOutcome(state, `workflow:wf-${i}`, 'Failed', 'o', new Date(now.getTime() + i * 1000), 3).state;
    expect(Object.keys(state.scopes)).toHaveLength(MAX_SCOPES);
    expect(state.scopes['workflow:tripped']?.tripped).toBeDefined();
    expect(state.scopes['workflow:wf-0']).toBeUndefined();
  });

  it('reads settings from bundle data with defaults, and refuses a state it cannot read', () => {
    expect(breakerSettings({})).toEqual({ threshold: 3, acknowledged: new Set() });
    expect(breakerSettings({ belay: { config: { outcomes: { breaker: { consecutiveFailures: 5, acknowledged: ['a', 7] } } } } })).toEqual({
      threshold: 5,
      acknowledged: new Set(['a']),
    });
    expect(() => parseState('{"version":2}')).toThrow(/version 1/);
    expect(parseState(JSON.stringify(fail(emptyState(), 3).state)).scopes[key]?.tripped?.failures).toBe(3);
  });
});

describe('breaker store and view (ConfigMap)', () => {
  let kube: FakeKube;
  beforeEach(async () => {
    kube = await startFakeKube();
  });
  afterEach(async () => {
    await kube.close();
  });

  it('writes with compare-and-swap and every replica reads the trips', async () => {
    const store = new KubeBreakerStore(kube.kubeConfig(), 'belay');
    const other = new KubeBreakerStore(kube.kubeConfig(), 'belay');
    for (let i = 0; i < 3; i++) {
      await updateState(store, (s) => {
        const next = recordOutcome(s, key, 'Failed', `o-${i}`, now, 3);
        return { state: next.state, result: next.tripped, changed: true };
      });
    }
    const cm = kube.objects('/configmaps').find((c) => c.metadata.name === BREAKER_CONFIGMAP);
    expect(cm?.metadata.namespace).toBe('belay');
    const view = new BreakerView(other);
    await view.refresh();
    expect(view.input().breakers[key]?.failures).toBe(3);

    // A concurrent writer: the stale write conflicts and is retried on fresh state.
    const stale = await store.read();
    await other.write(recordOutcome(stale.state, 'workflow:b', 'Failed', 'x', now, 3).state, stale.resourceVersion);
    await expect(store.write(stale.state, stale.resourceVersion)).rejects.toMatchObject({ code: 'conflict' });
    await updateState(store, (s) => ({ state: recordOutcome(s, 'workflow:c', 'Failed', 'y', now, 3).state, result: null, changed: true }));
    const final = (await store.read()).state;
    expect(Object.keys(final.scopes).sort()).toEqual(['workflow:b', 'workflow:c', key]);
  });

  it('a view that cannot read keeps the last known trips', async () => {
    const store = new KubeBreakerStore(kube.kubeConfig(), 'belay');
    await store.write(fail(emptyState(), 3).state, undefined);
    const errors: unknown[] = [];
    const view = new BreakerView(store, (e) => errors.push(e));
    await view.refresh();
    await kube.close();
    await view.refresh();
    expect(errors).toHaveLength(1);
    expect(view.input().breakers[key]).toBeDefined();
    kube = await startFakeKube();
  });
});
