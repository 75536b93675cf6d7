// One watched change, on a clock the test moves: landing, health, settle,
// and every way an outcome becomes Unknown rather than a wrong Succeeded.

import { describe, expect, it } from 'vitest';
import type { Health } from './judge.js';
import type { JudgePolicy, TargetRef } from './resource.js';
import { type Snapshot, Watch } from './watch.js';

const target: TargetRef = { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'team-a', name: 'web', subresource: '' };
const policy: JudgePolicy = { windowMs: 300_000, settleMs: 30_000, notReadyMs: 120_000, restartLimit: 3 };
const healthy: Health = { state: 'healthy', message: 'rollout complete', evidence: ['rollout complete'], notReady: [] };
const progressing: Health = { state: 'progressing', evidence: ['rollout in progress'], notReady: [] };
const crashing: Health = {
  state: 'failed',
  reason: 'CrashLoopBackOff',
  message: 'pod p container web: CrashLoopBackOff',
  evidence: ['pod p: Running'],
  notReady: [],
};

const present = (health: Health, over: Partial<Extract<Snapshot, { present: true }>> = {}): Snapshot => ({
  present: true,
  uid: 'u1',
  generation: 2,
  deleting: false,
  specDigest: 'sha256:new',
  health,
  ...over,
});
const update = (expect = { uid: 'u1', specDigest: 'sha256:new', generation: 2 }) => new Watch({ expect, change: { operation: 'UPDATE', target } }, policy, 0);

/** Observes `s` every `step` ms from `from` until `to`; the first verdict, with its time. */
function run(w: Watch, s: (t: number) => Snapshot, from: number, to: number, step = 2_000) {
  for (let t = from; t <= to; t += step) {
    const v = w.observe(s(t), t) ?? w.due(t);
    if (v) return { ...v, at: t };
  }
  return undefined;
}

describe('Watch: a change that lands', () => {
  it('succeeds once healthy for the settle time, and not before', () => {
    const w = update();
    expect(w.observe(present(progressing), 0)).toBeUndefined();
    expect(w.landed).toBe(true);
    const v = run(w, (t) => present(t < 10_000 ? progressing : healthy), 2_000, 120_000);
    expect(v).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete', at: 40_000 });
  });

  it('fails at once when the new pods fail, with the evidence', () => {
    const w = update();
    w.observe(present(progressing), 0);
    expect(w.observe(present(crashing), 2_000)).toEqual({
      result: 'Failed',
      reason: 'CrashLoopBackOff',
      message: 'pod p container web: CrashLoopBackOff',
      evidence: ['pod p: Running'],
    });
  });

  it('fails when a new pod runs but is never Ready for notReadyAfter', () => {
    const w = update();
    const v = run(w, () => present({ ...progressing, notReady: ['web-1'] }), 0, 300_000);
    expect(v).toMatchObject({ result: 'Failed', reason: 'NotReady', message: 'pod web-1 has been running but not Ready for 2m', at: 120_000 });
  });

  it('a Job that completes succeeds without settling', () => {
    const w = update();
    expect(w.observe(present({ state: 'complete', message: 'Job complete', evidence: [], notReady: [] }), 0)).toMatchObject({
      result: 'Succeeded',
      reason: 'Completed',
    });
  });
});

describe('Watch: Unknown, never a wrong Succeeded', () => {
  it('a healthy stretch broken by a gap in observation starts over', () => {
    const w = update();
    w.observe(present(healthy), 0);
    w.observe(present(healthy), 10_000);
    // 20s without a read (the watcher was busy): the earlier health proves nothing about the gap.
    expect(w.observe(present(healthy), 30_000)).toBeUndefined();
    expect(w.observe(present(healthy), 45_000)).toBeUndefined();
    expect(w.observe(present(healthy), 60_000)).toMatchObject({ result: 'Succeeded' });
  });

  it('still rolling out when the window ends', () => {
    const w = update();
    expect(run(w, () => present(progressing), 0, 400_000)).toMatchObject({ result: 'Unknown', reason: 'RolloutIncomplete', at: 300_000 });
  });

  it('healthy, but for less than the settle time when the window ends', () => {
    const w = update();
    const v = run(w, (t) => present(t < 290_000 ? progressing : healthy), 0, 400_000);
    expect(v).toMatchObject({ result: 'Unknown', reason: 'RolloutIncomplete' });
    expect(v!.message).toMatch(/became healthy only 10s before the 5m window ended/);
  });

  it('the object deleted during the window', () => {
    const w = update();
    w.observe(present(progressing), 0);
    expect(w.observe({ present: false }, 2_000)).toMatchObject({ result: 'Unknown', reason: 'Deleted' });
  });

  it('the object deleted and created again (a new uid)', () => {
    const w = update();
    w.observe(present(progressing), 0);
    expect(w.observe(present(healthy, { uid: 'u2' }), 2_000)).toMatchObject({ result: 'Unknown', reason: 'Replaced' });
  });

  it('the object changed again during the window', () => {
    const w = update();
    w.observe(present(healthy), 0);
    expect(w.observe(present(healthy, { generation: 3, specDigest: 'sha256:other' }), 20_000)).toMatchObject({ result: 'Unknown', reason: 'Superseded' });
  });

  it('the change never lands, or something else landed first', () => {
    const never = update();
    expect(run(never, () => present(healthy, { generation: 1, specDigest: 'sha256:old' }), 0, 100_000)).toMatchObject({
      result: 'Unknown',
      reason: 'NotApplied',
      at: 60_000,
    });
    const other = update();
    expect(other.observe(present(healthy, { generation: 3, specDigest: 'sha256:other' }), 0)).toMatchObject({ result: 'Unknown', reason: 'Superseded' });
  });

  it('reads that keep failing end it WatchBroken; one failure does not', () => {
    const w = update();
    w.observe(present(healthy), 0);
    expect(w.failedRead('connect ECONNREFUSED', 2_000)).toBeUndefined();
    expect(w.observe(present(healthy), 4_000)).toBeUndefined();
    for (let t = 6_000; t < 66_000; t += 2_000) expect(w.failedRead('connect ECONNREFUSED', t)).toBeUndefined();
    expect(w.failedRead('connect ECONNREFUSED', 66_000)).toMatchObject({
      result: 'Unknown',
      reason: 'WatchBroken',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  it('a failed read breaks a healthy stretch', () => {
    const w = update();
    w.observe(present(healthy), 0);
    w.observe(present(healthy), 10_000);
    w.failedRead('timeout', 12_000);
    expect(w.observe(present(healthy), 14_000)).toBeUndefined();
    expect(w.observe(present(healthy), 34_000)).toBeUndefined(); // gap of 20s again
    expect(w.observe(present(healthy), 44_000)).toBeUndefined();
    expect(w.observe(present(healthy), 64_000)).toBeUndefined(); // 20s gap
  });

  it('a window already partly watched by another replica ends sooner', () => {
    const w = new Watch({ expect: { specDigest: 'sha256:new' }, change: { operation: 'UPDATE', target } }, policy, 1_000, 50_000);
    expect(w.due(50_999)).toBeUndefined();
    expect(w.due(51_000)).toMatchObject({ result: 'Unknown' });
  });
});

describe('Watch: deletes and scale', () => {
  const del = (uid?: string) => new Watch({ expect: uid ? { uid } : {}, change: { operation: 'DELETE', target } }, policy, 0);

  it('a delete that stays deleted for the window succeeds', () => {
    expect(run(del('u1'), () => ({ present: false }), 0, 400_000)).toMatchObject({ result: 'Succeeded', reason: 'StayedDeleted', at: 300_000 });
  });

  it('a deleted object created again fails (Recreated)', () => {
    const w = del('u1');
    w.observe({ present: false }, 0);
    expect(w.observe(present(healthy, { uid: 'u2' }), 2_000)).toMatchObject({ result: 'Failed', reason: 'Recreated' });
  });

  it('an object still terminating at the end is Unknown', () => {
    expect(run(del('u1'), () => present(healthy, { deleting: true }), 0, 400_000)).toMatchObject({ result: 'Unknown', reason: 'StillTerminating' });
  });

  it('a scale request lands on the replicas asked for', () => {
    const scale = { ...target, subresource: 'scale' };
    const w = new Watch({ expect: { uid: 'u1', replicas: 5 }, change: { operation: 'UPDATE', target: scale } }, policy, 0);
    expect(w.observe(present(progressing, { replicas: 3 }), 0)).toBeUndefined();
    expect(w.landed).toBe(false);
    w.observe(present(progressing, { replicas: 5 }), 2_000);
    expect(w.landed).toBe(true);
    expect(w.observe(present(healthy, { replicas: 4 }), 4_000)).toMatchObject({ result: 'Unknown', reason: 'Superseded' });
  });
});
