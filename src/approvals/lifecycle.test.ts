// The approval lifecycle on both stores: the local directory store and the
// cluster store (against an in-memory API server with its conflict semantics).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT, deferred, deployment, secretRead, toolCallDeferred, withAgents } from '../testkit/approval-requests.js';
import { type FakeKube, startFakeKube } from '../testkit/fake-kube.js';
import { objectDigest } from './fingerprint.js';
import type { AdmitCheck, DeferredRequest, GateOutcome } from './gate.js';
import { KubeApprovalStore } from './kube-store.js';
import { ApprovalLifecycle } from './lifecycle.js';
import { LocalApprovalStore } from './local-store.js';
import { type ApprovalRequest, phaseOf } from './resource.js';
import type { ApprovalStore } from './store.js';

const ALICE = { username: 'alice', groups: ['belay:approvers'] };

interface Harness {
  store: ApprovalStore;
  /** A second store on the same data (another replica, or the CLI next to the gateway). */
  other: () => Promise<ApprovalStore>;
  close(): Promise<void>;
}

const stores: Record<string, () => Promise<Harness>> = {
  local: async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-approvals-'));
    return {
      store: await LocalApprovalStore.open(dir, withAgents),
      other: () => LocalApprovalStore.open(dir, withAgents),
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  cluster: async () => {
    const kube: FakeKube = await startFakeKube({ username: 'alice' });
    return { store: new KubeApprovalStore(kube.kubeConfig()), other: async () => new KubeApprovalStore(kube.kubeConfig()), close: () => kube.close() };
  },
};

describe.each(Object.keys(stores))('approval lifecycle on the %s store', (kind) => {
  let h: Harness;
  let clock: number;
  let gate: ApprovalLifecycle;
  const now = () => new Date(clock);

  beforeEach(async () => {
    h = await stores[kind]!();
    clock = Date.now();
    gate = new ApprovalLifecycle({ store: h.store, namespace: 'belay', now });
  });
  afterEach(async () => {
    await h.close();
  });

  const records = () => h.store.list();
  const only = async (): Promise<ApprovalRequest> => {
    const all = await records();
    expect(all).toHaveLength(1);
    return all[0]!;
  };
  const approve = async (r: ApprovalRequest, extra: { message?: string; override?: object } = {}) =>
    h.store.decide(r.metadata.namespace, r.metadata.name, { phase: 'Approved', ...extra } as never, ALICE);

  it('records a deferred request as Pending and says how to approve it', async () => {
    const out = await gate.resolve(deferred('uid-1'));
    const r = await only();
    expect(out).toMatchObject({ kind: 'pending', approvalId: `prod/${r.metadata.name}` });
    const message = (out as { message: string }).message;
    expect(message).toContain(`belay approvals approve prod/${r.metadata.name}`);
    const kubectl = `kubectl patch approvalrequest ${r.metadata.name} -n prod --subresource=status --type=merge -p '{"status":{"phase":"Approved"}}'`;
    // kubectl only where there is a cluster to patch
    if (kind === 'cluster') expect(message).toContain(kubectl);
    else expect(message).not.toContain('kubectl');
    expect(message).toContain('retry the same request');
    expect(phaseOf(r)).toBe('Pending');
    expect(r.metadata.name).toMatch(/^belay-[0-9a-f]{20}$/);
    expect(r.spec).toMatchObject({
      face: 'admission',
      requester: { user: AGENT },
      request: { operation: 'CREATE', group: 'apps', kind: 'Deployment', namespace: 'prod', name: 'web' },
      objectDigest: objectDigest(deployment()),
      reasons: [{ rule: 'prod.scale' }],
      approverGroups: ['belay:approvers'],
      risk: 'high',
      bundleRevision: 'rev-1',
      context: { workflow: 'scale-up-v1', confidence: 0.7 },
    });
    expect(Date.parse(r.spec.requiredBy) - clock).toBeGreaterThan(14 * 60_000);
    expect(Date.parse(r.spec.requiredBy) - clock).toBeLessThanOrEqual(15 * 60_000);
  });

  it('maps a retry, and 20 concurrent copies on two replicas, to one request', async () => {
    const first = await gate.resolve(deferred('uid-1'));
    const replica = new ApprovalLifecycle({ store: await h.other(), namespace: 'belay', now });
    const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? gate : replica).resolve(deferred(`uid-${i + 2}`))));
    expect(outs.every((o) => o.kind === 'pending' && o.approvalId === first.approvalId)).toBe(true);
    await only();
  });

  it('creates 20 concurrent first requests as exactly one', async () => {
    const replica = new ApprovalLifecycle({ store: await h.other(), namespace: 'belay', now });
    const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? gate : replica).resolve(deferred(`uid-${i}`))));
    const ids = new Set(outs.map((o) => o.approvalId));
    expect(ids.size).toBe(1);
    await only();
  });

  it('creates nothing for a dry run', async () => {
    const out = await gate.resolve(deferred('uid-1', deployment(), { dryRun: true }));
    expect(out).toMatchObject({ kind: 'pending', approvalId: null });
    expect((out as { message: string }).message).toMatch(/dry run.*nothing was recorded.*creates ApprovalRequest prod\/belay-/);
    expect(await records()).toHaveLength(0);
  });

  it('admits an approved request once: mutate uses it, validate (another uid) confirms it, a later request asks anew', async () => {
    await gate.resolve(deferred('uid-1'));
    const r = await approve(await only(), { message: 'looks right' });
    expect(r.status).toMatchObject({ phase: 'Approved', decidedBy: 'alice', message: 'looks right' });

    // A dry run sees the approval but does not use it.
    expect((await gate.resolve(deferred('uid-dry', deployment(), { dryRun: true }))).kind).toBe('approved');
    expect(phaseOf(await only())).toBe('Approved');

    const used = await gate.resolve(deferred('m-2', deployment(), { stage: 'mutate' }));
    expect(used).toMatchObject({ kind: 'approved', approvalId: `prod/${r.metadata.name}`, decidedBy: 'alice', override: null });
    const consumed = await only();
    expect(consumed.status).toMatchObject({ phase: 'Consumed', consumption: { requestUid: 'm-2', objectDigest: objectDigest(deployment()) } });
    expect(consumed.status?.consumption?.confirmedAt).toBeUndefined();

    // A reinvocation of the mutating webhook, then validation: each review has its own uid.
    expect((await gate.resolve(deferred('m-2-again', deployment(), { stage: 'mutate' }))).kind).toBe('approved');
    expect((await gate.resolve(deferred('v-2', deployment(), { stage: 'validate' }))).kind).toBe('approved');
    expect((await only()).status?.consumption?.confirmedAt).toBeDefined();
    // The same review uid again is the same use (an idempotent retry of one call).
    expect((await gate.resolve(deferred('m-2', deployment(), { stage: 'mutate' }))).kind).toBe('approved');

    const again = await gate.resolve(deferred('m-3', deployment(), { stage: 'mutate' }));
    expect(again.kind).toBe('pending');
    expect((again as { message: string }).message).toMatch(/was already used once \(by request m-2\), so doing this again needs a new approval/);
    const all = await records();
    expect(all.map((x) => [x.metadata.name.replace(/^belay-[0-9a-f]{20}/, ''), phaseOf(x)]).sort()).toEqual([
      ['', 'Consumed'],
      ['-2', 'Pending'],
    ]);
  });

  it('confirms a use on validate when no mutating webhook saw the request (delete, connect)', async () => {
    await gate.resolve(deferred('uid-1'));
    await approve(await only());
    expect((await gate.resolve(deferred('v-1', deployment(), { stage: 'validate' }))).kind).toBe('approved');
    expect((await only()).status?.consumption).toMatchObject({ requestUid: 'v-1', confirmedAt: expect.any(String) });
    expect((await gate.resolve(deferred('v-2', deployment(), { stage: 'validate' }))).kind).toBe('pending');
  });

  it('counts an unconfirmed use as used once its request can no longer be in flight', async () => {
    await gate.resolve(deferred('uid-1'));
    await approve(await only());
    expect((await gate.resolve(deferred('m-1', deployment(), { stage: 'mutate' }))).kind).toBe('approved');
    clock += 61_000; // the validating webhook never saw it (another webhook refused the request)
    expect((await gate.resolve(deferred('v-1', deployment(), { stage: 'validate' }))).kind).toBe('pending');
  });

  it('admits exactly one of many identical requests racing through mutate and validate', async () => {
    await gate.resolve(deferred('uid-0'));
    await approve(await only());
    const replica = new ApprovalLifecycle({ store: await h.other(), namespace: 'belay', now });
    const flow = async (i: number) => {
      const g = i % 2 ? gate : replica;
      const m = await g.resolve(deferred(`m-${i}`, deployment(), { stage: 'mutate' }));
      if (m.kind !== 'approved') return false;
      return (await g.resolve(deferred(`v-${i}`, deployment(), { stage: 'validate' }))).kind === 'approved';
    };
    const admitted = await Promise.all(Array.from({ length: 10 }, (_, i) => flow(i)));
    expect(admitted.filter(Boolean)).toHaveLength(1);
    const phases = (await records()).map(phaseOf).sort();
    expect(phases).toEqual(['Consumed', 'Pending']);
  });

  it("keeps a rejected request refused with the approver's message until it lapses", async () => {
    await gate.resolve(deferred('uid-1'));
    const r = await only();
    await h.store.decide(r.metadata.namespace, r.metadata.name, { phase: 'Rejected', message: 'wrong cluster' }, ALICE);
    for (const uid of ['uid-2', 'uid-3']) {
      const out = await gate.resolve(deferred(uid));
      expect(out.kind).toBe('rejected');
      expect((out as { message: string }).message).toMatch(/^rejected by alice: wrong cluster \(ApprovalRequest prod\/belay-[0-9a-f]{20}\)/);
    }
    clock = Date.parse(r.spec.requiredBy) + 1_000;
    const after = await gate.resolve(deferred('uid-4'));
    expect(after.kind).toBe('pending');
    expect(await records()).toHaveLength(2);
  });

  it('asks again once a request lapsed without a decision, and never admits a lapsed approval', async () => {
    await gate.resolve(deferred('uid-1'));
    const r = await approve(await only());
    clock = Date.parse(r.spec.requiredBy);
    const out = await gate.resolve(deferred('uid-2'));
    expect(out.kind).toBe('pending');
    expect((out as { message: string }).message).toMatch(/expired at .* so this is a new request/);
    expect((await records()).map(phaseOf).sort()).toEqual(['Approved', 'Pending']);
  });

  it("applies the approver's edit on mutate, recognises it on validate, and admits nothing else with it", async () => {
    await gate.resolve(deferred('uid-1'));
    const edit = [{ op: 'replace' as const, path: '/spec/replicas', value: 2 }];
    await approve(await only(), { override: { patch: edit } });

    const edited = deployment(2);
    const seen: unknown[] = [];
    const admit = async (patch: unknown): Promise<AdmitCheck> => {
      seen.push(patch);
      return { ok: true, objectDigest: objectDigest(edited) };
    };
    const out = await gate.resolve(deferred('m-2', deployment(), { stage: 'mutate', admit }));
    expect(out).toMatchObject({ kind: 'approved', override: edit });
    expect(seen).toEqual([edit]);
    expect((await only()).status?.consumption?.objectDigest).toBe(objectDigest(edited));

    // Another object under the same target is not this approval's.
    const other = await gate.resolve(deferred('v-x', deployment(7), { stage: 'validate' }));
    expect(other.kind).toBe('pending');
    // Validation sees the edited object (another fingerprint) and confirms the use.
    const ok = await gate.resolve(deferred('v-2', edited, { stage: 'validate' }));
    expect(ok.kind).toBe('approved');
    expect((await h.store.list()).find((x) => phaseOf(x) === 'Consumed')?.status?.consumption?.confirmedAt).toBeDefined();
    // Once confirmed, the same edited object again is a new request.
    expect((await gate.resolve(deferred('v-3', edited, { stage: 'validate' }))).kind).toBe('pending');
  });

  it('accepts on validate an edit the API server filled defaults into', async () => {
    await gate.resolve(deferred('uid-1'));
    const edit = [{ op: 'add' as const, path: '/spec/template/spec/containers/0/ports', value: [{ containerPort: 8080 }] }];
    await approve(await only(), { override: { patch: edit } });
    const computed = deployment();
    (computed.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!.ports = [{ containerPort: 8080 }];
    await gate.resolve(deferred('m-2', deployment(), { stage: 'mutate', admit: async () => ({ ok: true, objectDigest: objectDigest(computed) }) }));
    const defaulted = structuredClone(computed);
    (defaulted.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec.containers[0]!.ports = [
      { containerPort: 8080, protocol: 'TCP' },
    ];
    expect((await gate.resolve(deferred('v-2', defaulted, { stage: 'validate' }))).kind).toBe('approved');
  });

  it('leaves an approval unused when the face cannot admit what it approves', async () => {
    await gate.resolve(deferred('uid-1'));
    await approve(await only(), { override: { patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }] } });
    const out = await gate.resolve(
      deferred('uid-2', deployment(), { stage: 'mutate', admit: async () => ({ ok: false, message: "the approver's edit is denied by policy: no" }) }),
    );
    expect(out).toMatchObject({ kind: 'refused' });
    expect((out as { message: string }).message).toMatch(/does not admit this request: the approver's edit is denied by policy/);
    expect(phaseOf(await only())).toBe('Approved');
    // …and validate cannot apply an edit at all
    const v = await gate.resolve(deferred('uid-3', deployment(), { stage: 'validate' }));
    expect(v.kind).toBe('refused');
    expect((v as { message: string }).message).toMatch(/only belay's mutating webhook can apply an edit/);
  });

  it('keeps cluster-scoped requests in the approvals namespace', async () => {
    const req: DeferredRequest = deferred('uid-1', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'admin-for-default' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [],
    });
    const input = {
      ...req.input,
      resource: {
        group: 'rbac.authorization.k8s.io',
        version: 'v1',
        kind: 'ClusterRoleBinding',
        resource: 'clusterrolebindings',
        namespace: '',
        name: 'admin-for-default',
      },
    };
    const out: GateOutcome = await gate.resolve({ ...req, input });
    expect(out.approvalId).toMatch(/^belay\/belay-/);
  });

  it("hands a tool call's replacement arguments to the face's check, and a refused edit leaves the approval unused", async () => {
    const crb = { resource: 'kind: ClusterRoleBinding' };
    const rb = { resource: 'kind: RoleBinding' };
    await gate.resolve(toolCallDeferred('call-1', crb));
    await approve(await only(), { override: { arguments: rb } });

    const seen: unknown[] = [];
    const refuse = async (patch: unknown, args: unknown): Promise<AdmitCheck> => {
      seen.push([patch, args]);
      return { ok: false, message: "the approver's edit is denied by policy: nothing may be bound in kube-system" };
    };
    const out = await gate.resolve(toolCallDeferred('call-2', crb, { admit: refuse }));
    expect(out).toMatchObject({ kind: 'refused' });
    expect(seen).toEqual([[null, rb]]);
    expect(phaseOf(await only())).toBe('Approved');

    const admit = async (_patch: unknown, args: unknown): Promise<AdmitCheck> => ({ ok: true, objectDigest: `sha256:${JSON.stringify(args).length}` });
    const used = await gate.resolve(toolCallDeferred('call-3', crb, { admit }));
    expect(used).toMatchObject({ kind: 'approved', arguments: rb, override: null });
    expect((await only()).status).toMatchObject({
      phase: 'Consumed',
      consumption: { requestUid: 'call-3', objectDigest: `sha256:${JSON.stringify(rb).length}` },
    });
    // The same call id again is a new call: an agent's id is not the API server's uid, and an approval is used once.
    expect((await gate.resolve(toolCallDeferred('call-3', crb, { admit }))).kind).toBe('pending');
  });

  it('keeps a read window on the record: every replica admits the same read until the use plus the window, then asks anew', async () => {
    const windowMs = 60_000;
    const read = (uid: string, g = gate) => g.resolve(secretRead(uid, { windowMs }));
    const first = await read('sar-1');
    expect(first.kind).toBe('pending');
    const message = (first as { message: string }).message;
    expect(message).toMatch(/then retry the read: the same read by the same agent is allowed for 1m from the first one after the approval\.$/);
    expect(message).not.toMatch(/admitted once/);
    await approve(await only());

    const used = await read('sar-2');
    expect(used).toMatchObject({ kind: 'approved' });
    const consumed = await only();
    expect(phaseOf(consumed)).toBe('Consumed');
    const until = Date.parse(consumed.status!.consumption!.at) + windowMs;
    expect((used as { until: string }).until).toBe(new Date(until).toISOString().replace(/\.\d{3}Z$/, 'Z'));

    // Another replica (and a restarted one) has never seen this approval used: the record says it may.
    const replica = new ApprovalLifecycle({ store: await h.other(), namespace: 'belay', now });
    clock += 30_000;
    expect(await read('sar-3', replica)).toMatchObject({ kind: 'approved', approvalId: first.approvalId, until: (used as { until: string }).until });
    expect(await read('sar-4')).toMatchObject({ kind: 'approved' });
    await only();

    clock = until + 1_000;
    const after = await read('sar-6', replica);
    expect(after.kind).toBe('pending');
    expect((after as { message: string }).message).toMatch(
      /^The read window of approval .* ended at .*, so reading it again needs a new approval\. ApprovalRequest .*-2 is Pending/,
    );
    expect((await records()).map(phaseOf).sort()).toEqual(['Consumed', 'Pending']);
  });

  it('tells each face what an approval lets through', async () => {
    const messages: Record<string, string> = {};
    for (const [face, req] of [
      ['admission', deferred('a-1')],
      ['toolcall', toolCallDeferred('t-1', { resource: 'x' })],
      ['prompt', { ...deferred('p-1', null), input: { ...deferred('p-1', null).input, face: 'prompt' as const, content: { text: 'hi', findings: [] } } }],
    ] as const) {
      messages[face] = ((await gate.resolve(req)) as { message: string }).message;
    }
    expect(messages.admission).toMatch(/then retry the same request, which is admitted once\.$/);
    expect(messages.toolcall).toMatch(/then retry the same tool call, which is allowed once \(as the approver edited it, if they did\)\.$/);
    expect(messages.prompt).toMatch(/then send the same prompt again, which is let through once\.$/);
  });

  it('records no more than the cap of open requests per target and per requester, and says why', async () => {
    const capped = new ApprovalLifecycle({ store: h.store, namespace: 'belay', now, maxOpenPerTarget: 3, maxOpenPerRequester: 5 });
    // One target (Deployment prod/web), ever new content: three wait, the fourth is refused.
    const outs = [];
    for (let i = 1; i <= 4; i++) outs.push(await capped.resolve(deferred(`t-${i}`, deployment(i))));
    expect(outs.slice(0, 3).map((o) => o.kind)).toEqual(['pending', 'pending', 'pending']);
    expect(outs[3]!.kind).toBe('refused');
    expect(outs.slice(0, 3).map((o) => o.approvalId)).toContain(outs[3]!.approvalId);
    expect((outs[3] as { message: string }).message).toMatch(
      /^3 approval requests for CREATE of Deployment prod\/web by system:serviceaccount:agents:remediator already wait for a decision \(prod\/belay-.*\), so belay records no more until one is decided or expires \(the first at .*\)\. Ask an approver to decide them \(belay approvals list\)/,
    );
    // Retrying one that waits still answers from it.
    expect((await capped.resolve(deferred('t-1-again', deployment(1)))).kind).toBe('pending');
    // Other targets of the same requester: two more fit under its cap of five, then it is refused everywhere.
    const other = (n: number) => deferred(`o-${n}`, deployment(1, { name: `web-${n}` }));
    const more = [];
    for (let i = 1; i <= 3; i++)
      more.push(await capped.resolve({ ...other(i), input: { ...other(i).input, resource: { ...other(i).input.resource, name: `web-${i}` } } }));
    expect(more.map((o) => o.kind)).toEqual(['pending', 'pending', 'refused']);
    expect((more[2] as { message: string }).message).toMatch(/^5 approval requests from system:serviceaccount:agents:remediator already wait/);
    expect(await records()).toHaveLength(5);
    // A decision (or an expiry) makes room.
    const [first] = await records();
    await approve(first!);
    expect((await capped.resolve({ ...other(3), input: { ...other(3).input, resource: { ...other(3).input.resource, name: 'web-3' } } })).kind).toBe('pending');
  });

  it('a flood of distinct deferred requests from one requester cannot grow the store past its cap', async () => {
    const capped = new ApprovalLifecycle({ store: h.store, namespace: 'belay', now, maxOpenPerTarget: 10, maxOpenPerRequester: 20 });
    const outs = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const req = deferred(`flood-${i}`, deployment(1, { name: `f-${i}` }));
        return capped.resolve({ ...req, input: { ...req.input, resource: { ...req.input.resource, name: `f-${i}` } } });
      }),
    );
    expect(outs.filter((o) => o.kind === 'pending')).toHaveLength(20);
    expect(await records()).toHaveLength(20);
  }, 60_000);

  it('survives a restart: a new gate on the same data finds the pending request', async () => {
    const first = await gate.resolve(deferred('uid-1'));
    const restarted = new ApprovalLifecycle({ store: await h.other(), namespace: 'belay', now });
    expect((await restarted.resolve(deferred('uid-2'))).approvalId).toBe(first.approvalId);
    await only();
  });
});
