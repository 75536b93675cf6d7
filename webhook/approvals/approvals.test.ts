// Approvals through a running gateway in local mode (no cluster): the
// admission webhook defers, the local store holds the request, a human
// decides through the same store the CLI uses, the agent's retry is admitted
// once; and the approvals webhook answers AdmissionReviews over HTTPS.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalApprovalStore } from '../../src/approvals/local-store.js';
import { type ApprovalRequest, phaseOf } from '../../src/approvals/resource.js';
import type { DecisionRecord, DecisionSink } from '../../src/observe/decisions.js';
import { silentLogger } from '../../src/observe/log.js';
import { deploymentRequest, reviewOf, TEST_AGENT } from '../../src/testkit/admission.js';
import { withAgents } from '../../src/testkit/approval-requests.js';
import { buildBundle, TEST_POLICY_DIR } from '../../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from '../gateway.js';

const AGENT = TEST_AGENT;
const ALICE = { username: 'alice', groups: ['belay:approvers'] };

let dir: string;
let gateway: Gateway;
let ca: Buffer;
let store: LocalApprovalStore;
const decisions: DecisionRecord[] = [];
const sink: DecisionSink = { record: (r) => void decisions.push(r), close: async () => {} };

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-approvals-gw-'));
  const bundlePath = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundlePath, buildBundle(TEST_POLICY_DIR));
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundlePath },
    tlsDir: path.join(dir, 'tls'),
    log: silentLogger,
    decisions: sink,
    evaluation: { mode: 'in-process' },
    approvals: { stateDir: path.join(dir, 'state'), gatewayUser: 'belay-gateway' },
  });
  ca = (await import('node:fs')).readFileSync(gateway.caFile);
  store = await LocalApprovalStore.open(path.join(dir, 'state'), withAgents);
});

afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

function post(pathname: string, body: unknown): Promise<{ status: number; body: any }> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(pathname, gateway.url), { method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

function admission(uid: string, replicas: number, over: Record<string, unknown> = {}) {
  return reviewOf({ ...deploymentRequest({ 'test/decision': 'defer' }, { uid, replicas }), ...over });
}

const only = async (): Promise<ApprovalRequest> => {
  const all = (await store.list()).filter((r) => r.spec.request.name === 'web' && phaseOf(r) !== 'Consumed');
  expect(all).toHaveLength(1);
  return all[0]!;
};

describe('approvals in local mode', () => {
  it('defers, is approved, admits the retry once (mutate and validate), then asks again', async () => {
    const first = await post('/mutate', admission('uid-1', 3));
    expect(first.body.response).toMatchObject({ uid: 'uid-1', allowed: false, status: { code: 403 } });
    expect(first.body.response.status.message).toMatch(
      /^approval required: this change needs a human \[rule test\.defer\]\. ApprovalRequest team-a\/belay-[0-9a-f]{20} is Pending until .* belay approvals approve team-a\/belay-[0-9a-f]{20}/,
    );
    const r = await only();

    // 20 concurrent retries while pending: still one request.
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => post('/validate', admission(`uid-c${i}`, 3))));
    expect(many.every((m) => m.body.response.allowed === false)).toBe(true);
    await only();

    await store.decide('team-a', r.metadata.name, { phase: 'Approved', message: 'go' }, ALICE);
    const mutate = await post('/mutate', admission('uid-2', 3));
    expect(mutate.body.response).toMatchObject({
      uid: 'uid-2',
      allowed: true,
      auditAnnotations: { approval: `team-a/${r.metadata.name}`, approvedBy: 'alice' },
    });
    // The API server gives the validating call of the same request its own uid.
    const validate = await post('/validate', admission('uid-2v', 3));
    expect(validate.body.response).toMatchObject({ uid: 'uid-2v', allowed: true });
    expect((await store.get('team-a', r.metadata.name))?.status).toMatchObject({
      phase: 'Consumed',
      consumption: { requestUid: 'uid-2', confirmedAt: expect.any(String) },
    });

    const again = await post('/mutate', admission('uid-3', 3));
    expect(again.body.response.allowed).toBe(false);
    expect(again.body.response.status.message).toMatch(/already used once \(by request uid-2\)/);
  });

  it("applies an approver's edit on mutate and admits only the edited object on validate", async () => {
    const first = await post('/mutate', admission('e-1', 5));
    expect(first.body.response.allowed).toBe(false);
    const r = (await store.list()).find(
      (x) => x.spec.object && (x.spec.object as { spec: { replicas: number } }).spec.replicas === 5 && phaseOf(x) === 'Pending',
    )!;
    await store.decide('team-a', r.metadata.name, { phase: 'Approved', override: { patch: [{ op: 'replace', path: '/spec/replicas', value: 2 }] } }, ALICE);

    const mutate = await post('/mutate', admission('e-2', 5));
    expect(mutate.body.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' });
    expect(JSON.parse(Buffer.from(mutate.body.response.patch, 'base64').toString())).toEqual([{ op: 'replace', path: '/spec/replicas', value: 2 }]);
    // The API server applied the patch: validate sees 2 replicas; another object does not pass.
    const other = await post('/validate', admission('e-2x', 9));
    expect(other.body.response.allowed).toBe(false);
    expect((await post('/validate', admission('e-2v', 2))).body.response.allowed).toBe(true);
    // …and the edited object a second time is not admitted on the same approval.
    expect((await post('/validate', admission('e-3v', 2))).body.response.allowed).toBe(false);
  });

  it('refuses an edit that policy denies, and leaves the approval unused', async () => {
    await post('/mutate', admission('d-1', 6));
    const r = (await store.list()).find((x) => (x.spec.object as { spec: { replicas: number } } | null)?.spec.replicas === 6 && phaseOf(x) === 'Pending')!;
    await store.decide(
      'team-a',
      r.metadata.name,
      { phase: 'Approved', override: { patch: [{ op: 'replace', path: '/metadata/labels/test~1decision', value: 'deny' }] } },
      ALICE,
    );
    const out = await post('/mutate', admission('d-2', 6));
    expect(out.body.response.allowed).toBe(false);
    expect(out.body.response.status.message).toMatch(/the approver's edit is denied by policy: Deployment web is labelled deny/);
    expect(phaseOf((await store.get('team-a', r.metadata.name))!)).toBe('Approved');
  });

  it('answers dry runs the same and records nothing', async () => {
    const before = (await store.list()).length;
    const out = await post('/validate', admission('dry-1', 11, { dryRun: true }));
    expect(out.body.response.allowed).toBe(false);
    expect(out.body.response.status.message).toMatch(/dry run, so nothing was recorded/);
    expect((await store.list()).length).toBe(before);
  });
});

describe('approvals webhook over HTTPS', () => {
  function statusReview(user: typeof ALICE, old: ApprovalRequest, phase: string) {
    return {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'sod-1',
        kind: { group: 'belay.dev', version: 'v1alpha1', kind: 'ApprovalRequest' },
        resource: { group: 'belay.dev', version: 'v1alpha1', resource: 'approvalrequests' },
        subResource: 'status',
        name: old.metadata.name,
        namespace: old.metadata.namespace,
        operation: 'UPDATE',
        userInfo: user,
        oldObject: old,
        object: { ...old, status: { ...old.status, phase } },
      },
    };
  }

  it('stamps the decider on /mutate-approval and refuses the agent on /validate-approval', async () => {
    await post('/mutate', admission('w-1', 13));
    const r = (await store.list()).find((x) => (x.spec.object as { spec: { replicas: number } } | null)?.spec.replicas === 13)!;
    const m = await post('/mutate-approval', statusReview(ALICE, r, 'Approved'));
    expect(m.body.response).toMatchObject({ uid: 'sod-1', allowed: true, patchType: 'JSONPatch' });
    const [op] = JSON.parse(Buffer.from(m.body.response.patch, 'base64').toString());
    expect(op).toMatchObject({ op: 'add', path: '/status', value: { phase: 'Approved', decidedBy: 'alice' } });

    const before = decisions.length;
    const v = await post('/validate-approval', statusReview(AGENT, r, 'Approved'));
    expect(v.body.response).toMatchObject({ uid: 'sod-1', allowed: false, status: { code: 403 } });
    expect(v.body.response.status.message).toMatch(/agent identity, and agents may not approve/);
    expect(decisions.slice(before)).toMatchObject([
      { verdict: 'approval-refused', actor: { username: AGENT.username }, approvalId: `team-a/${r.metadata.name}` },
    ]);
  });

  it('answers a malformed review with 400 and its uid', async () => {
    const bad = await post('/validate-approval', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'x-1', operation: 'UPDATE' } });
    expect(bad.body.response).toMatchObject({ uid: 'x-1', allowed: false, status: { code: 400 } });
    const none = await post('/validate-approval', [1, 2]);
    expect(none.status).toBe(400);
  });
});
