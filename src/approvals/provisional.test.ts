// Provisional uses, on the cluster store with the API server's own view of
// the object (both the in-memory API server): a review nobody verified holds
// an approval until the object shows the request happened. A forged review
// therefore cannot use an approval up — its hold is void once it could no
// longer be in flight — while a real request's use becomes final as soon as
// the object shows it, and exactly one request is admitted either way.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../contract/index.js';
import { deferred, deployment, policyInput } from '../testkit/approval-requests.js';
import { type FakeKube, startFakeKube } from '../testkit/fake-kube.js';
import type { DeferredRequest } from './gate.js';
import { KubeApprovalStore } from './kube-store.js';
import { ApprovalLifecycle, IN_FLIGHT_MS } from './lifecycle.js';
import { evidenceFrom, kubeUseEvidence, reservationOf } from './provisional.js';
import { phaseOf } from './resource.js';

const ALICE = { username: 'alice', groups: ['belay:approvers'] };
let kube: FakeKube;
let store: KubeApprovalStore;
let gate: ApprovalLifecycle;
let clock: number;
const now = () => new Date(clock);

async function api(method: string, pathname: string, body?: unknown): Promise<JsonObject> {
  const res = await fetch(`${kube.url}${pathname}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as JsonObject;
}

/** The live Deployment prod/web, as the API server has it. */
const live = () => api('GET', '/apis/apps/v1/namespaces/prod/deployments/web');

/** An agent's UPDATE of prod/web (replicas 5), as a review carries it: the old object is the live one. */
async function update(uid: string, over: Partial<DeferredRequest> = {}): Promise<DeferredRequest> {
  const old = await live();
  const req = deferred(uid, deployment(5));
  const input = policyInput(deployment(5), { action: { operation: 'UPDATE', verb: 'update', subresource: '', dryRun: false }, oldObject: old });
  return { ...req, input, caller: 'unverified', ...over };
}

/** The API server storing the update: the object's resourceVersion moves. */
async function stored(): Promise<void> {
  const current = await live();
  await api('PUT', '/apis/apps/v1/namespaces/prod/deployments/web', { ...current, spec: { ...(current.spec as JsonObject), replicas: 5 } });
}

const only = async () => {
  const all = await store.list();
  expect(all).toHaveLength(1);
  return all[0]!;
};

beforeEach(async () => {
  kube = await startFakeKube({ username: 'belay-gateway' });
  store = new KubeApprovalStore(kube.kubeConfig());
  clock = Date.now();
  gate = new ApprovalLifecycle({ store, namespace: 'belay', now, evidence: kubeUseEvidence(kube.kubeConfig()) });
  await api('POST', '/apis/apps/v1/namespaces/prod/deployments', deployment(3));
  expect((await gate.resolve(await update('ask'))).kind).toBe('pending');
  const r = await only();
  await store.decide(r.metadata.namespace, r.metadata.name, { phase: 'Approved' }, ALICE);
});
afterEach(async () => {
  await kube.close();
});

describe('a use by a review nobody verified', () => {
  it('is held, not used, so a forged review cannot use an approval up; the real request gets it once the forgery could no longer be in flight', async () => {
    // The forger sends the agent's very review (it read the approval): admitted, to the forger, and held.
    expect((await gate.resolve(await update('forged'))).kind).toBe('approved');
    let r = await only();
    expect(phaseOf(r)).toBe('Approved');
    expect(reservationOf(r)).toMatchObject({ requestUid: 'forged', operation: 'UPDATE' });

    // The agent's real retry, moments later: refused while the forged one could still be in flight.
    const early = await gate.resolve(await update('real-1'));
    expect(early.kind).toBe('refused');
    expect((early as { message: string }).message).toMatch(
      /held by request forged, which a caller belay could not verify sent at .*, and the API server does not show that request yet; if it never goes through, the approval can be used from /,
    );

    // Past that, the API server never showed it: the hold is void and the real retry uses the approval.
    clock += IN_FLIGHT_MS + 1_000;
    expect((await gate.resolve(await update('real-2'))).kind).toBe('approved');
    r = await only();
    expect(reservationOf(r)).toMatchObject({ requestUid: 'real-2' });
    await stored();

    // The API server shows it: the use is final, and doing it again asks anew.
    const next = await gate.resolve(await update('real-3'));
    expect(next.kind).toBe('pending');
    const consumed = (await store.list()).find((x) => phaseOf(x) === 'Consumed')!;
    expect(consumed.status).toMatchObject({ consumption: { requestUid: 'real-2' } });
    expect(consumed.status?.conditions?.find((c) => c.type === 'InUse')).toMatchObject({ status: 'False', reason: 'Shown' });
  });

  it('admits exactly one of many concurrent identical requests, through mutate and validate', async () => {
    const flow = async (i: number) => {
      const m = await gate.resolve(await update(`m-${i}`, { stage: 'mutate' }));
      if (m.kind !== 'approved') return false;
      return (await gate.resolve(await update(`v-${i}`, { stage: 'validate' }))).kind === 'approved';
    };
    const admitted = await Promise.all(Array.from({ length: 10 }, (_, i) => flow(i)));
    expect(admitted.filter(Boolean)).toHaveLength(1);
    expect(reservationOf(await only())?.confirmedAt).toBeDefined();
  });

  it('counts at once where the API server cannot show it: an exec, or an object the gateway may not read', async () => {
    const exec = { ...deferred('exec-1', null), caller: 'unverified' as const };
    const connect: DeferredRequest = {
      ...exec,
      input: policyInput(null, { action: { operation: 'CONNECT', verb: 'create', subresource: 'exec', dryRun: false } }),
    };
    expect((await gate.resolve(connect)).kind).toBe('pending');
    const [pending] = (await store.list()).filter((x) => phaseOf(x) === 'Pending');
    await store.decide(pending!.metadata.namespace, pending!.metadata.name, { phase: 'Approved' }, ALICE);
    expect((await gate.resolve({ ...connect, requestUid: 'exec-2' })).kind).toBe('approved');
    expect(phaseOf((await store.get(pending!.metadata.namespace, pending!.metadata.name))!)).toBe('Consumed');

    // A view that cannot read the object: the hold settles as used when the next request looks.
    const blind = new ApprovalLifecycle({ store, namespace: 'belay', now, evidence: evidenceFrom(async () => Promise.reject(new Error('forbidden'))) });
    expect((await blind.resolve(await update('u-1'))).kind).toBe('approved');
    expect((await blind.resolve(await update('u-2'))).kind).toBe('pending');
  });

  it('judges deletes and creates by whether the object went or came', async () => {
    const shows = (op: string, before?: { uid?: string; resourceVersion?: string }) =>
      kubeUseEvidence(kube.kubeConfig()).shows(
        { operation: op, group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', subresource: '', namespace: 'prod', name: 'web' },
        { requestUid: 'x', objectDigest: 'd', at: new Date(clock).toISOString(), operation: op, ...(before ? { before } : {}) },
      );
    const obj = await live();
    const meta = obj.metadata as { uid: string; resourceVersion: string };
    expect(await shows('DELETE', { uid: meta.uid })).toBe('not-shown');
    expect(await shows('CREATE')).toBe('shown');
    expect(await shows('UPDATE', meta)).toBe('not-shown');
    await stored();
    expect(await shows('UPDATE', meta)).toBe('shown');
    await api('DELETE', '/apis/apps/v1/namespaces/prod/deployments/web');
    expect(await shows('DELETE', { uid: meta.uid })).toBe('shown');
    expect(await shows('CREATE')).toBe('not-shown');
  });
});

describe('a use by the API server (its certificate verified)', () => {
  it('is final at once, as before', async () => {
    expect((await gate.resolve(await update('v-1', { caller: 'apiserver' }))).kind).toBe('approved');
    expect(phaseOf(await only())).toBe('Consumed');
  });
});
