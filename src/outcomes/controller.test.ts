// Outcome tracking end to end over a fake API server, with the real default
// policies and approval lifecycle: an agent's change is decided, admitted,
// recorded, watched and judged; a failure gets its remedy proposed and the
// remedy is admitted through the same policy; automated failures trip the
// breaker and the next defer goes to a human; and every way a watch cannot
// know ends Unknown with its reason.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { approvalName, requestKeys } from '../approvals/fingerprint.js';
import { phaseOf } from '../approvals/resource.js';
import type { JsonObject } from '../contract/index.js';
import { decideAdmission } from '../decide/admission.js';
import { BelayError } from '../errors.js';
import { admissionInput } from '../input/admission.js';
import { namesOnly } from '../namespaces/directory.js';
import { AGENT, ALICE, agentDeployment, LOW_CONFIDENCE, type OutcomesHarness, outcomesBundle, outcomesHarness } from '../testkit/outcomes.js';
import { pod } from '../testkit/workloads.js';
import { breakerInput } from './breaker.js';
import { isFinal, type OutcomeRecord } from './resource.js';

let bundle: Buffer;
let h: OutcomesHarness | undefined;
beforeAll(() => {
  bundle = outcomesBundle();
}, 120_000);
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** The Deployment as the cluster holds it after its controller rolled `object` out (or is rolling it out). */
function live(
  object: JsonObject,
  generation: number,
  status: Partial<{ updated: number; available: number; total: number }> = {},
  revision = String(generation),
): JsonObject {
  const replicas = ((object.spec as JsonObject).replicas as number) ?? 1;
  return {
    ...object,
    metadata: {
      ...(object.metadata as JsonObject),
      uid: 'dep-uid',
      generation,
      annotations: { ...((object.metadata as JsonObject).annotations as object), 'deployment.kubernetes.io/revision': revision },
    },
    status: {
      observedGeneration: generation,
      replicas: status.total ?? replicas,
      updatedReplicas: status.updated ?? replicas,
      availableReplicas: status.available ?? replicas,
      readyReplicas: status.available ?? replicas,
      ...((status.available ?? replicas) < replicas ? { unavailableReplicas: replicas - (status.available ?? replicas) } : {}),
    },
  };
}

function rs(revision: string): JsonObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `web-${revision}`,
      namespace: 'team-a',
      uid: `rs-${revision}`,
      labels: { app: 'web' },
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'dep-uid', controller: true }],
    },
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const records = (x: OutcomesHarness): OutcomeRecord[] => x.kube.objects('belay.dev/outcomes') as unknown as OutcomeRecord[];

/** An agent's change deferred, approved by alice, retried: the approval's id and the reviews' answers. */
async function approvedChange(x: OutcomesHarness, next: JsonObject, before: JsonObject) {
  const [deferred] = await x.admit('UPDATE', next, before);
  expect(deferred!.verdict).toBe('defer');
  const [ns, name] = deferred!.approvalId!.split('/') as [string, string];
  await x.approvals.decide(ns, name, { phase: 'Approved' }, ALICE);
  const answers = await x.admit('UPDATE', next, before);
  expect(answers.map((a) => a.allowed)).toEqual([true, true]);
  return deferred!.approvalId!;
}

describe('an approved change', () => {
  it('a scale-up that rolls out: Succeeded on the record, the ApprovalRequest, the decision log and the notifier', async () => {
    h = await outcomesHarness(bundle);
    const before = h.kube.put('apps/deployments', live(agentDeployment({ replicas: 2, annotations: LOW_CONFIDENCE }), 1));
    const next = agentDeployment({ replicas: 3, annotations: LOW_CONFIDENCE });
    const approval = await approvedChange(h, next, before);

    const record = await until('the record', () => records(h!)[0]);
    expect(record.spec.change).toMatchObject({ operation: 'UPDATE', approval, triggers: ['approval', 'workload'], requester: { user: AGENT.username } });
    await until('the watch', () => (h!.controller.size === 1 ? true : undefined));

    // The controller scales up: one more pod, not yet available.
    h.kube.put('apps/replicasets', rs('1'));
    h.kube.put('apps/deployments', live(next, 2, { available: 2 }, '1'));
    await h.advance(6_000);
    expect(records(h)[0]!.status?.result).toBe('Watching');
    const [ns, name] = approval.split('/') as [string, string];
    expect((await h.approvals.get(ns, name))?.status?.outcome).toMatchObject({ result: 'Watching', record: `team-a/${record.metadata.name}` });

    h.kube.put('apps/deployments', live(next, 2, {}, '1'));
    for (const p of ['a', 'b', 'c']) h.kube.put('/pods', pod(`web-1-${p}`, 'rs-1', 'ready'));
    await h.advance(14_000);
    const done = records(h)[0]!;
    expect(done.status).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete', watchedBy: 'replica-1' });
    expect(done.metadata.labels?.['belay.dev/outcome-state']).toBe('finished');
    const stored = await h.approvals.get(ns, name);
    expect(phaseOf(stored!)).toBe('Consumed');
    expect(stored?.status?.outcome).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete', record: `team-a/${done.metadata.name}` });
    expect(h.decisions).toContainEqual(
      expect.objectContaining({
        kind: 'outcome',
        verdict: 'succeeded',
        approvalId: approval,
        outcome: expect.objectContaining({ result: 'Succeeded', workflow: 'scale-web' }),
      }),
    );
    expect(h.notices).toContainEqual(expect.objectContaining({ kind: 'outcome', result: 'Succeeded', approval }));
  });

  it('an image that crashes: Failed with the reason, a rollback proposed and admitted through policy once approved', async () => {
    h = await outcomesHarness(bundle);
    const before = h.kube.put('apps/deployments', live(agentDeployment({ annotations: LOW_CONFIDENCE }), 1));
    const next = agentDeployment({ image: 'e2e.belay.invalid/crashloop:1', annotations: LOW_CONFIDENCE });
    const approval = await approvedChange(h, next, before);
    await until('the watch', () => (h!.controller.size === 1 ? true : undefined));

    h.kube.put('apps/replicasets', rs('1'));
    h.kube.put('apps/replicasets', rs('2'));
    h.kube.put('apps/deployments', live(next, 2, { updated: 1, available: 2, total: 3 }, '2'));
    h.kube.put('/pods', pod('web-2-a', 'rs-2', 'crashloop'));
    await h.advance(4_000);

    const done = records(h)[0]!;
    expect(done.status).toMatchObject({ result: 'Failed', reason: 'CrashLoopBackOff' });
    expect(done.status?.evidence?.join('\n')).toMatch(/pod web-2-a: Running, Ready False; web waiting CrashLoopBackOff/);
    const remedyRef = done.status?.remedy?.approval;
    expect(done.status?.remedy).toMatchObject({ kind: 'rollback', note: expect.stringMatching(/^belay proposes rolling Deployment team-a\/web back/) });
    const [ns, name] = approval.split('/') as [string, string];
    expect((await h.approvals.get(ns, name))?.status?.outcome).toMatchObject({ result: 'Failed', reason: 'CrashLoopBackOff', remedy: { approval: remedyRef } });
    expect(h.notices).toContainEqual(
      expect.objectContaining({ result: 'Failed', reason: 'CrashLoopBackOff', remedy: expect.objectContaining({ approval: remedyRef }) }),
    );

    // The remedy: a Pending ApprovalRequest the agent's own rollback request names.
    const [rns, rname] = remedyRef!.split('/') as [string, string];
    const remedy = (await h.approvals.get(rns, rname))!;
    expect(phaseOf(remedy)).toBe('Pending');
    expect(remedy.metadata.labels?.['belay.dev/remedy']).toBe('true');
    expect(remedy.spec.remedy).toMatchObject({ for: approval, kind: 'rollback', reason: expect.stringMatching(/^CrashLoopBackOff/) });
    expect(remedy.spec.requester.user).toBe(AGENT.username);
    expect(remedy.spec.reasons.map((r) => r.rule)).toContain('outcomes.remedy');
    const rollback = remedy.spec.object!;
    expect(((((rollback.spec as JsonObject).template as JsonObject).spec as JsonObject).containers as JsonObject[])[0]!.image).toBe(
      'nginxinc/nginx-unprivileged:1.27',
    );
    expect((rollback.metadata as JsonObject).annotations).toMatchObject({ 'belay.dev/remedy-for': approval });

    // Before approval, the agent's rollback is refused (pending); after, admitted once, through the same policy.
    const current = h.kube.objects('apps/deployments')[0];
    const refused = await h.admit('UPDATE', rollback, current);
    expect(refused[0]!.verdict).toBe('defer');
    expect(refused[0]!.approvalId).toBe(remedyRef);
    await h.approvals.decide(rns, rname, { phase: 'Approved' }, ALICE);
    const applied = await h.admit('UPDATE', rollback, current);
    expect(applied.map((a) => [a.allowed, a.approvalId])).toEqual([
      [true, remedyRef],
      [true, remedyRef],
    ]);
    const remedyRecord = await until('the remedy outcome', () => records(h!).find((r) => r.spec.change.approval === remedyRef));
    expect(remedyRecord.spec.change.triggers).toContain('approval');
  });

  it("a fix that broke the rollout: Failed, and the remedy is the object without belay's fix", async () => {
    h = await outcomesHarness(bundle);
    // A Deployment that names a user but not runAsNonRoot: policy fixes it (runAsNonRoot…) without asking the
    // image, since the user is stated; the pod then fails all the same (the kubelet refuses its config).
    const sent = agentDeployment({ image: 'node:22', secure: false });
    (((sent.spec as JsonObject).template as JsonObject).spec as JsonObject).securityContext = { runAsUser: 1000 };
    const [m, v] = await h.admit('CREATE', sent);
    expect(m!.verdict).toBe('fix');
    expect(v!.allowed).toBe(true);
    const record = await until('the record', () => records(h!)[0]);
    expect(record.spec.change.triggers).toEqual(expect.arrayContaining(['fix', 'workload']));
    expect(record.spec.change.fixes?.rules).toContain('pss.restricted.run_as_non_root');
    await until('the watch', () => (h!.controller.size === 1 ? true : undefined));

    const fixed = structuredClone(sent);
    (((fixed.spec as JsonObject).template as JsonObject).spec as JsonObject).securityContext = { runAsNonRoot: true };
    // Land what was admitted (the record's expectation is the fixed spec), then the kubelet refuses it.
    const admitted = (await h.outcomes.get(record.metadata.namespace, record.metadata.name))!;
    expect(admitted.spec.unfixed).toBeDefined();
    const landed = live({ ...sent, spec: structuredClone(admittedSpec(h, v)) }, 1, { available: 0 }, '1');
    h.kube.put('apps/deployments', landed);
    h.kube.put('apps/replicasets', rs('1'));
    h.kube.put('/pods', pod('web-1-a', 'rs-1', 'config-error'));
    await h.advance(4_000);
    const done = records(h)[0]!;
    expect(done.status).toMatchObject({ result: 'Failed', reason: 'CreateContainerConfigError', remedy: { kind: 'unfix' } });
    const [rns, rname] = done.status!.remedy!.approval!.split('/') as [string, string];
    const remedy = (await h.approvals.get(rns, rname))!;
    const spec = ((remedy.spec.object!.spec as JsonObject).template as JsonObject).spec as JsonObject;
    expect(spec.securityContext).toEqual({ runAsUser: 1000 });
    expect(remedy.spec.reasons.map((r) => r.rule)).toEqual(expect.arrayContaining(['outcomes.remedy', 'pss.restricted.run_as_non_root']));
  });
});

/** The spec the validating review admitted (the fixed object's), as the recorder saw it. */
function admittedSpec(x: OutcomesHarness, v: { input?: { object: JsonObject | null } } | undefined): JsonObject {
  expect(x).toBeDefined();
  return (v!.input!.object!.spec as JsonObject) ?? {};
}

describe('automated changes and the breaker', () => {
  it('three failed automated changes trip the breaker; the next defer of that workflow goes to a human', async () => {
    h = await outcomesHarness(bundle);
    const auto = { 'belay.dev/workflow': 'auto-wf', 'belay.dev/confidence': '0.5', 'belay.dev/remediation-target': 'Deployment/web' };
    let before = h.kube.put('apps/deployments', live(agentDeployment({ annotations: auto }), 1));
    for (let i = 1; i <= 3; i++) {
      const next = agentDeployment({ image: `e2e.belay.invalid/crashloop:${i}`, annotations: auto });
      const [m, v] = await h.admit('UPDATE', next, before);
      expect([m!.allowed, v!.allowed, v!.decision?.mode, v!.decision?.wouldBe]).toEqual([true, true, 'automate', 'defer']);
      await until(`record ${i}`, () => (h!.controller.size === 1 ? true : undefined));
      h.kube.put('apps/replicasets', rs(String(i + 1)));
      before = h.kube.put('apps/deployments', live(next, i + 1, { updated: 1 }, String(i + 1)));
      h.kube.put('/pods', pod(`web-${i}`, `rs-${i + 1}`, 'crashloop'));
      await h.advance(4_000);
      expect(h.controller.size).toBe(0);
    }
    expect(records(h).map((r) => r.status?.result)).toEqual(['Failed', 'Failed', 'Failed']);
    const trips = breakerInput((await h.breakers.store.read()).state).breakers;
    expect(trips['workflow:auto-wf']).toMatchObject({ failures: 3, id: expect.stringMatching(/^workflow:auto-wf@/) });
    expect(h.notices).toContainEqual(
      expect.objectContaining({ kind: 'breaker', result: 'Demoted', breaker: expect.objectContaining({ key: 'workflow:auto-wf' }) }),
    );
    expect(h.decisions).toContainEqual(expect.objectContaining({ kind: 'outcome', verdict: 'breaker-tripped' }));

    // The next change of the workflow: demoted, so it defers to a human.
    const next = agentDeployment({ replicas: 4, annotations: auto });
    const [deferred] = await h.admit('UPDATE', next, before);
    expect(deferred).toMatchObject({ verdict: 'defer', decision: { mode: 'approve' } });
    expect(deferred!.warnings[0]).toMatch(/^belay: workflow "auto-wf" is demoted from automate to approve: 3 automated changes in a row failed/);
    expect(deferred!.input?.outcomes?.breakers['workflow:auto-wf']).toBeDefined();
  });

  it('a policy change that acknowledges the trip undoes it', async () => {
    const trip = 'workflow:auto-wf@2026-12-06T09:00:00Z';
    const acknowledged = outcomesBundle((c) => {
      c.outcomes.breaker = { consecutiveFailures: 3, acknowledged: [trip] };
    });
    h = await outcomesHarness(acknowledged);
    await h.breakers.store.write(
      {
        version: 1,
        scopes: {
          'workflow:auto-wf': { consecutiveFailures: 3, failures: [], updatedAt: '', tripped: { id: trip, trippedAt: '', failures: 3, outcomes: [] } },
        },
      },
      undefined,
    );
    await h.controller.housekeeping(false);
    expect(breakerInput((await h.breakers.store.read()).state).breakers).toEqual({});
  }, 120_000);
});

describe('Unknown rather than a wrong Succeeded', () => {
  const change = async (x: OutcomesHarness, replicas: number) => {
    const before = x.kube.put('apps/deployments', live(agentDeployment({ replicas: 2 }), 1));
    await x.admit('UPDATE', agentDeployment({ replicas }), before);
  };

  it('past the watch limit a change ends Unknown (Overloaded) at once', async () => {
    h = await outcomesHarness(bundle, { limits: { maxWatches: 1 } });
    await change(h, 3);
    await until('the first watch', () => (h!.controller.size === 1 ? true : undefined));
    h.kube.put('apps/deployments', live(agentDeployment({ name: 'other' }), 1));
    await h.admit('UPDATE', agentDeployment({ name: 'other', replicas: 5 }), {
      ...live(agentDeployment({ name: 'other' }), 1),
      metadata: { name: 'other', namespace: 'team-a', uid: 'other-uid', generation: 1 },
    });
    const over = await until('the overloaded one', () => records(h!).find((r) => r.status?.reason === 'Overloaded'));
    expect(over.status).toMatchObject({ result: 'Unknown', message: 'belay was already watching 1 changes (its limit), so it did not watch this one' });
    expect(h.controller.size).toBe(1);
  });

  it('a clock that jumps ends the running watches Unknown (ClockJumped)', async () => {
    h = await outcomesHarness(bundle);
    await change(h, 3);
    await until('the watch', () => (h!.controller.size === 1 ? true : undefined));
    await h.advance(2_000);
    h.clock.wall += 3_600_000;
    await h.advance(2_000);
    expect(records(h)[0]!.status).toMatchObject({ result: 'Unknown', reason: 'ClockJumped', message: expect.stringMatching(/jumped by \+3600s/) });
  });

  it('a record another replica began is resumed for what is left of its window; one whose window passed unwatched ends Unknown', async () => {
    h = await outcomesHarness(bundle, { start: false });
    await change(h, 3);
    const [r] = records(h) as OutcomeRecord[];
    const began = (ago: number) => ({
      ...r!,
      status: { result: 'Watching' as const, startedAt: new Date(h!.clock.wall - ago).toISOString().replace(/\.\d+Z$/, 'Z'), watchedBy: 'replica-0' },
    });
    h.controller.admit(began(100_000));
    expect(h.controller.size).toBe(1);
    await h.advance(22_000);
    expect(records(h)[0]!.status).toMatchObject({ result: 'Unknown', reason: 'NotApplied' });

    const again = await outcomesHarness(bundle, { start: false });
    try {
      await change(again, 4);
      const [s] = records(again);
      again.controller.admit({ ...s!, status: { result: 'Watching', startedAt: '2026-12-06T09:00:00Z' } });
      await again.controller.flush();
      expect(records(again)[0]!.status).toMatchObject({ result: 'Unknown', reason: 'Unwatched' });
      const [t] = records(again);
      // Stamped in the future by this replica's clock.
      const future = {
        ...t!,
        metadata: { ...t!.metadata, name: 'outcome-future' },
        status: undefined,
        spec: { ...t!.spec, change: { ...t!.spec.change, admittedAt: '2026-12-06T11:00:00Z' } },
      };
      await again.outcomes.create(future as OutcomeRecord);
      again.controller.admit(future as OutcomeRecord);
      await again.controller.flush();
      expect((await again.outcomes.get('team-a', 'outcome-future'))?.status).toMatchObject({ result: 'Unknown', reason: 'ClockSkew' });
    } finally {
      await again.close();
    }
  });

  it('a target belay may not read ends Unknown (Forbidden) at once', async () => {
    h = await outcomesHarness(bundle, {
      reader: {
        snapshot: async () => {
          throw new BelayError('forbidden', 'read deployments team-a/web: deployments.apps "web" is forbidden');
        },
        get: async () => undefined,
      },
    });
    await change(h, 3);
    await until('the watch', () => (h!.controller.size === 1 ? true : undefined));
    await h.advance(2_000);
    expect(records(h)[0]!.status).toMatchObject({
      result: 'Unknown',
      reason: 'Forbidden',
      message: expect.stringMatching(/give its ClusterRole get and list on deployments/),
    });
  });

  it('a watch of the records that breaks is listed again: nothing is missed', async () => {
    h = await outcomesHarness(bundle);
    h.kube.dropWatches();
    // Recorded while nothing watches the records (the fake replays nothing): only listing again finds it.
    await change(h, 3);
    expect(h.controller.size).toBe(0);
    await until('the record, listed again', () => (h!.controller.size === 1 ? true : undefined), 15_000);
  }, 30_000);
});

describe('a remedy applied by an approver outside the gateway', () => {
  it('is marked used once the target shows it, and its outcome is watched', async () => {
    h = await outcomesHarness(bundle);
    const before = h.kube.put('apps/deployments', live(agentDeployment({ annotations: LOW_CONFIDENCE }), 1));
    const next = agentDeployment({ image: 'e2e.belay.invalid/crashloop:1', annotations: LOW_CONFIDENCE });
    await approvedChange(h, next, before);
    await until('the watch', () => (h!.controller.size === 1 ? true : undefined));
    h.kube.put('apps/replicasets', rs('2'));
    h.kube.put('apps/deployments', live(next, 2, { updated: 1 }, '2'));
    h.kube.put('/pods', pod('web-2-a', 'rs-2', 'crashloop'));
    await h.advance(2_000);
    const failed = records(h).find((r) => isFinal(r.status?.result))!;
    const [rns, rname] = failed.status!.remedy!.approval!.split('/') as [string, string];
    await h.approvals.decide(rns, rname, { phase: 'Approved' }, ALICE);
    const remedy = (await h.approvals.get(rns, rname))!;
    // What `belay approvals apply` does: the approved object, whole, as the approver.
    h.kube.put('apps/deployments', live(remedy.spec.object!, 3, {}, '3'));
    await h.controller.housekeeping(false);
    expect(phaseOf((await h.approvals.get(rns, rname))!)).toBe('Consumed');
    const adopted = await until('the remedy outcome', () => records(h!).find((r) => r.spec.change.id === `applied:${rns}/${rname}`));
    expect(adopted.spec.change.remedyFor).toBe(failed.spec.change.approval);
  });
});

describe('the remedy fingerprint', () => {
  it('is the fingerprint of the agent sending the remedy object', async () => {
    h = await outcomesHarness(bundle);
    const active = h.policy()!;
    const object = agentDeployment({ annotations: { 'belay.dev/remedy-for': 'team-a/belay-x' } });
    const input = admissionInput(
      {
        uid: 'u',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: 'web',
        namespace: 'team-a',
        operation: 'UPDATE',
        userInfo: AGENT,
        object: { ...object, metadata: { ...(object.metadata as JsonObject), uid: 'dep-uid', resourceVersion: '9', generation: 4 } },
        oldObject: null,
      },
      active.agents,
      namesOnly.lookup('team-a'),
    );
    // Volatile metadata aside, the same object gives the same ApprovalRequest name.
    const same = { ...input, object };
    expect(approvalName(requestKeys(input).fingerprint, 1)).toBe(approvalName(requestKeys(same).fingerprint, 1));
    const decided = await decideAdmission(
      {
        uid: 'u2',
        kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
        resource: { group: 'apps', version: 'v1', resource: 'deployments' },
        name: 'web',
        namespace: 'team-a',
        operation: 'UPDATE',
        userInfo: AGENT,
        object,
        oldObject: agentDeployment(),
        dryRun: true,
      },
      'validate',
      { policy: h.policy, approvals: h.lifecycle, namespaces: namesOnly },
    );
    expect(decided.rules).toContain('outcomes.remedy');
  });
});
