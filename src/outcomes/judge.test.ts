// How a workload's health is read from what the API server holds.

import { describe, expect, it } from 'vitest';
import { deployment, pod, replicaSet } from '../testkit/workloads.js';
import { judge } from './judge.js';

const rs1 = replicaSet('dep-uid', '1', 'rs-1');
const rs2 = replicaSet('dep-uid', '2', 'rs-2');

describe('judge: Deployment', () => {
  it('is healthy once every replica of the new revision is updated and available', () => {
    const h = judge(
      'Deployment',
      { object: deployment({ revision: '2' }), replicaSets: [rs1, rs2], pods: [pod('a', 'rs-2', 'ready'), pod('b', 'rs-2', 'ready')] },
      3,
    );
    expect(h.state).toBe('healthy');
    expect(h.message).toBe('rollout complete: 2 of 2 replicas updated, 2 available, 2 in total');
  });

  it('is progressing while the controller has not seen the generation, or replicas are missing', () => {
    const unseen = judge('Deployment', { object: deployment({ generation: 3, observedGeneration: 2 }), replicaSets: [], pods: [] }, 3);
    expect(unseen).toMatchObject({ state: 'progressing', message: 'the controller has not yet seen generation 3 (observed 2)' });
    const scaling = judge('Deployment', { object: deployment({ replicas: 5, updated: 5, available: 2, total: 5 }), replicaSets: [rs1], pods: [] }, 3);
    expect(scaling).toMatchObject({ state: 'progressing', message: 'rollout in progress: 5 of 5 replicas updated, 2 available, 5 in total' });
  });

  it('fails at once on a new pod in CrashLoopBackOff, with the pod states as evidence; old pods do not count', () => {
    const object = deployment({ revision: '2', updated: 1, available: 2, total: 3 });
    const h = judge(
      'Deployment',
      { object, replicaSets: [rs1, rs2], pods: [pod('old', 'rs-1', 'crashloop'), pod('new', 'rs-2', 'crashloop', { restarts: 1 })] },
      3,
    );
    expect(h.state).toBe('failed');
    expect(h.reason).toBe('CrashLoopBackOff');
    expect(h.message).toMatch(/^pod new container web: CrashLoopBackOff: back-off 10s/);
    expect(h.evidence).toContainEqual('pod new: Running, Ready False; web waiting CrashLoopBackOff, restarts 1, last Error exit 1');
    expect(h.evidence.join('\n')).not.toMatch(/pod old/);
  });

  it('fails on CreateContainerConfigError, and on restarts past the limit', () => {
    const object = deployment({ revision: '2', available: 0 });
    expect(judge('Deployment', { object, replicaSets: [rs2], pods: [pod('p', 'rs-2', 'config-error')] }, 3)).toMatchObject({
      state: 'failed',
      reason: 'CreateContainerConfigError',
    });
    expect(judge('Deployment', { object, replicaSets: [rs2], pods: [pod('p', 'rs-2', 'restarting', { restarts: 3 })] }, 3)).toMatchObject({
      state: 'failed',
      reason: 'Restarting',
      message: 'pod p container web restarted 3 times (limit 3)',
    });
  });

  it('reports pods running but not Ready for the watcher to time', () => {
    const h = judge(
      'Deployment',
      { object: deployment({ revision: '2', available: 0 }), replicaSets: [rs2], pods: [pod('p', 'rs-2', 'never-ready'), pod('q', 'rs-2', 'pending')] },
      3,
    );
    expect(h).toMatchObject({ state: 'progressing', notReady: ['p'] });
  });

  it('fails on ProgressDeadlineExceeded', () => {
    const object = deployment({
      available: 0,
      progressing: { status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-2" has timed out progressing.' },
    });
    expect(judge('Deployment', { object, replicaSets: [], pods: [] }, 3)).toMatchObject({
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "web-2" has timed out progressing.',
    });
  });
});

describe('judge: other kinds', () => {
  it('Job: complete, failed with its condition, or running', () => {
    const job = (conditions: object[], status: object = {}) => ({
      object: { kind: 'Job', metadata: { name: 'j', uid: 'job-uid', generation: 1 }, status: { conditions, ...status } },
      pods: [],
    });
    expect(judge('Job', job([{ type: 'Complete', status: 'True' }], { succeeded: 1 }), 3)).toMatchObject({ state: 'complete' });
    expect(
      judge('Job', job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }]), 3),
    ).toMatchObject({
      state: 'failed',
      reason: 'BackoffLimitExceeded',
    });
    expect(judge('Job', job([], { active: 1 }), 3)).toMatchObject({ state: 'progressing', message: 'Job running: 0 succeeded, 0 failed, 1 active' });
  });

  it('StatefulSet: only pods of the update revision count', () => {
    const sts = (ready: number) => ({
      kind: 'StatefulSet',
      metadata: { name: 's', uid: 'sts', generation: 2 },
      spec: { replicas: 2 },
      status: {
        observedGeneration: 2,
        replicas: 2,
        readyReplicas: ready,
        availableReplicas: ready,
        updatedReplicas: 2,
        updateRevision: 's-2',
        currentRevision: 's-2',
      },
    });
    const fresh = pod('s-0', 'sts', 'crashloop', { labels: { 'controller-revision-hash': 's-2' } });
    const old = pod('s-1', 'sts', 'crashloop', { labels: { 'controller-revision-hash': 's-1' } });
    expect(judge('StatefulSet', { object: sts(2), pods: [] }, 3).state).toBe('healthy');
    expect(judge('StatefulSet', { object: sts(1), pods: [old] }, 3).state).toBe('progressing');
    expect(judge('StatefulSet', { object: sts(1), pods: [fresh] }, 3)).toMatchObject({ state: 'failed', reason: 'CrashLoopBackOff' });
  });

  it('DaemonSet: every node updated and available', () => {
    const ds = (available: number) => ({
      kind: 'DaemonSet',
      metadata: { name: 'd', uid: 'ds', generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        updatedNumberScheduled: 3,
        numberAvailable: available,
        numberReady: available,
        numberUnavailable: 3 - available,
      },
    });
    expect(judge('DaemonSet', { object: ds(3), pods: [] }, 3).state).toBe('healthy');
    expect(judge('DaemonSet', { object: ds(1), pods: [] }, 3).state).toBe('progressing');
  });

  it('Pod: Ready, Succeeded, Failed; other kinds are present as written', () => {
    expect(judge('Pod', { object: pod('p', 'x', 'ready') }, 3).state).toBe('healthy');
    expect(judge('Pod', { object: { kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Succeeded' } } }, 3).state).toBe('complete');
    expect(judge('Pod', { object: pod('p', 'x', 'config-error') }, 3)).toMatchObject({ state: 'failed', reason: 'CreateContainerConfigError' });
    expect(judge('ConfigMap', { object: { kind: 'ConfigMap', metadata: { name: 'c' } } }, 3)).toMatchObject({
      state: 'healthy',
      evidence: ['ConfigMap present as written'],
    });
  });
});
