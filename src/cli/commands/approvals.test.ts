// `belay approvals` in-process, on the local store and on a cluster store
// (an in-memory API server): output, decisions, exit statuses.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { KubeApprovalStore } from '../../approvals/kube-store.js';
import { ApprovalLifecycle } from '../../approvals/lifecycle.js';
import { LocalApprovalStore } from '../../approvals/local-store.js';
import { phaseOf } from '../../approvals/resource.js';
import { AGENT, deferDecision, deferred, deployment, policyInput } from '../../testkit/approval-requests.js';
import { belay } from '../../testkit/cli.js';
import { type FakeKube, startFakeKube } from '../../testkit/fake-kube.js';
import { buildBundle, writeTree } from '../../testkit/opa-bundle.js';

/** The bundle that says who is an agent (the CLI decides nothing locally without it). */
let bundleFile: string;
beforeAll(() => {
  bundleFile = path.join(mkdtempSync(path.join(tmpdir(), 'belay-cli-bundle-')), 'bundle.tar.gz');
  const data = { belay: { config: { agents: { serviceAccountNamespaces: ['agents'], groups: ['belay:agents'] } } } };
  writeFileSync(
    bundleFile,
    buildBundle(writeTree({ 'p.rego': 'package belay.admission\nimport rego.v1\ndecision := {"decision": "allow"}\n', 'data.json': JSON.stringify(data) })),
  );
});

describe('belay approvals on the local store', () => {
  let dir: string;
  let store: LocalApprovalStore;
  let ref: string;
  const local = () => ['--state-dir', dir, '--bundle', bundleFile];
  const asAlice = ['--as', 'alice', '--as-group', 'belay:approvers'];

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'belay-cli-'));
    store = await LocalApprovalStore.open(dir);
    const out = await new ApprovalLifecycle({ store }).resolve(
      deferred('uid-1', deployment(), { decision: deferDecision({ fixes: [{ op: 'add', path: '/metadata/labels/reviewed', value: 'true' }] }) }),
    );
    ref = out.approvalId!;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists requests as a table, and as JSON', async () => {
    const r = await belay('approvals', 'list', ...local());
    expect(r.code).toBe(0);
    const [head, row] = r.out.trimEnd().split('\n');
    expect(head).toMatch(/^NAMESPACE\s+NAME\s+PHASE\s+REQUESTER\s+ACTION\s+TARGET\s+AGE\s+EXPIRES IN$/);
    expect(row).toMatch(new RegExp(`^prod\\s+${ref.split('/')[1]}\\s+Pending\\s+${AGENT}\\s+CREATE\\s+Deployment prod/web\\s+\\d+s\\s+1[45]m`));
    const json = JSON.parse((await belay('approvals', 'list', ...local(), '-o', 'json')).out);
    expect(json.items).toHaveLength(1);
    expect((await belay('approvals', 'list', ...local(), '--phase', 'Approved')).out).toMatch(/^No approval requests in phase Approved/);
  });

  it('shows what was asked, why, and how to decide', async () => {
    const r = await belay('approvals', 'show', ref, ...local());
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Name:\s+prod\/belay-/);
    expect(r.out).toContain('Phase:        Pending (expires in');
    expect(r.out).toContain('scaling in production needs a human [rule prod.scale, high]');
    expect(r.out).toContain('Proposed fix (belay approvals approve --apply-fixes):');
    expect(r.out).toContain(`Decide: belay approvals approve ${ref}`);
    // by bare name, unique across namespaces
    expect((await belay('approvals', 'show', ref.split('/')[1]!, ...local())).code).toBe(0);
  });

  it('decides nothing without the bundle that says who is an agent, and never as an agent', async () => {
    const missing = await belay('approvals', 'approve', ref, '--state-dir', dir, '--bundle', path.join(dir, 'no-such-bundle.tar.gz'), ...asAlice);
    expect(missing.code).not.toBe(0);
    expect(missing.err).toMatch(/cannot tell agents from approvers without the policy bundle .*pass --bundle .*Nothing was decided/);
    const asAgent = await belay('approvals', 'approve', ref, ...local(), '--as', 'system:serviceaccount:agents:helper', '--as-group', 'belay:approvers');
    expect(asAgent.code).toBe(1);
    expect(asAgent.err).toMatch(/is an agent identity, and agents may not approve/);
    expect(phaseOf((await store.get('prod', ref.split('/')[1]!))!)).toBe('Pending');
  });

  it('approves as the local user, once: a decision is final', async () => {
    const r = await belay('approvals', 'approve', ref, ...local(), ...asAlice, '-m', 'fine');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(new RegExp(`^approved ${ref} by alice: the agent's retry of the same request is admitted once, until `));
    const stored = (await store.get('prod', ref.split('/')[1]!))!;
    expect(stored.status).toMatchObject({ phase: 'Approved', decidedBy: 'alice', message: 'fine' });

    const again = await belay('approvals', 'reject', ref, ...local(), '--as', 'carol', '--as-group', 'belay:approvers', '-m', 'no');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already Approved \(decided by alice.*a decision is final/);
  });

  it('refuses the requester and non-approvers with exit status 1', async () => {
    const self = await belay('approvals', 'approve', ref, ...local(), '--as', AGENT, '--as-group', 'belay:approvers');
    expect(self.code).toBe(1);
    // The requester is an agent, which the bundle says: refused as one (before the bundle was read, only as the requester).
    expect(self.err).toMatch(/is an agent identity, and agents may not approve or reject requests/);
    const bob = await belay('approvals', 'approve', ref, ...local(), '--as', 'bob', '--as-group', 'developers');
    expect(bob.code).toBe(1);
    expect(bob.err).toMatch(/only members of belay:approvers/);
    expect(phaseOf((await store.list())[0]!)).toBe('Pending');
  });

  it('rejects with a required message', async () => {
    expect((await belay('approvals', 'reject', ref, ...local(), ...asAlice)).code).toBe(2);
    const r = await belay('approvals', 'reject', ref, ...local(), ...asAlice, '-m', 'wrong cluster');
    expect(r.code).toBe(0);
    expect((await store.list())[0]!.status).toMatchObject({ phase: 'Rejected', message: 'wrong cluster', decidedBy: 'alice' });
  });

  it('approves with an edit: a JSON patch, an edited file, or the proposed fixes', async () => {
    const bad = await belay('approvals', 'edit', ref, ...local(), ...asAlice, '--patch', '[{"op":"replace","path":"/spec/replicas","value":"x"}]');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a valid Deployment/);

    const file = path.join(dir, 'edited.yaml');
    const edited = deployment(1);
    writeFileSync(file, stringify(edited));
    const r = await belay('approvals', 'edit', ref, ...local(), ...asAlice, '-f', file, '-m', 'one replica is enough');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/with an edit/);
    expect((await store.list())[0]!.status).toMatchObject({ phase: 'Approved', override: { patch: [{ op: 'replace', path: '/spec/replicas', value: 1 }] } });
  });

  it("approves with the policy's proposed fixes", async () => {
    const r = await belay('approvals', 'approve', ref, ...local(), ...asAlice, '--apply-fixes');
    expect(r.code).toBe(0);
    expect((await store.list())[0]!.status?.override).toEqual({ patch: [{ op: 'add', path: '/metadata/labels/reviewed', value: 'true' }] });
  });

  it('says so when a request does not exist, or the input is wrong', async () => {
    const missing = await belay('approvals', 'approve', 'prod/belay-00000000000000000000', ...local(), ...asAlice);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^belay approvals approve: approval request prod\/belay-0+ not found/);
    expect((await belay('approvals', 'edit', ref, ...local(), ...asAlice, '--patch', '{nope')).code).toBe(2);
    expect((await belay('approvals', 'show', '../x/y', ...local())).code).toBe(2);
  });

  it("shows an UPDATE's change against the live object, the policy digest, the prompt, notifications and the object's history", async () => {
    const gate = new ApprovalLifecycle({ store });
    const live = deployment(2);
    const next = deployment(6);
    const update = deferred('uid-2', next, {
      bundleDigest: 'f00dfeed'.repeat(8),
      input: policyInput(next, {
        action: { operation: 'UPDATE', verb: 'update', subresource: '', dryRun: false },
        oldObject: live,
        context: { workflow: 'scale-up-v1', prompt: 'scale web to 6, the sale starts at noon', source: 'api' },
      }),
    });
    const id = (await gate.resolve(update)).approvalId!;
    const r = await belay('approvals', 'show', id, ...local());
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Bundle:       rev-1 (digest ${'f00dfeed'.repeat(8)})`);
    expect(r.out).toContain('Prompt (secrets redacted):\n  scale web to 6, the sale starts at noon');
    expect(r.out).toContain('Change against the live object:\n  @@ ');
    expect(r.out).toMatch(/^ {2}- {2}replicas: 2$/m);
    expect(r.out).toMatch(/^ {2}\+ {2}replicas: 6$/m);
    // The first request (a CREATE of the same Deployment) is this object's history.
    expect(r.out).toContain(`History of this object:\n  - ${ref} CREATE by ${AGENT} at `);
  });

  it('approves every pending request of one workflow run with --workflow, each judged on its own', async () => {
    const gate = new ApprovalLifecycle({ store });
    const ask = async (uid: string, replicas: number, run: string, onBehalfOf?: string) => {
      const req = deferred(uid, deployment(replicas), {
        input: policyInput(deployment(replicas), { context: { workflow: 'plan-v1', run, source: 'annotation' } }),
      });
      if (onBehalfOf) req.input.actor.extra['belay.dev/on-behalf-of'] = [onBehalfOf];
      return (await gate.resolve(req)).approvalId!;
    };
    const a = await ask('p1', 11, 'r1');
    const b = await ask('p2', 12, 'r1', 'alice');
    const c = await ask('p3', 13, 'r1');
    await ask('p4', 14, 'r2');
    const both = await belay('approvals', 'approve', ...local(), ...asAlice, '--workflow', 'plan-v1');
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/has pending requests of 2 runs \(r1, r2\); choose one with --run/);
    const out = await belay('approvals', 'approve', ...local(), ...asAlice, '--workflow', 'plan-v1', '--run', 'r1', '-m', 'the plan is fine');
    expect(out.code).toBe(1);
    expect(out.out).toMatch(/^approving 3 pending requests of workflow plan-v1 run r1:$/m);
    expect(out.out).toContain(`approved ${a} (Deployment prod/web) by alice`);
    expect(out.out).toContain(`approved ${c} (Deployment prod/web) by alice`);
    expect(out.out).toMatch(new RegExp(`refused  ${b} .*on behalf of alice, who may not decide it`));
    expect(out.err).toMatch(/1 of 3 requests of workflow plan-v1 run r1 were not approved/);
    const phase = async (id: string) => phaseOf((await store.get('prod', id.split('/')[1]!))!);
    expect([await phase(a), await phase(b), await phase(c)]).toEqual(['Approved', 'Pending', 'Approved']);
    const none = await belay('approvals', 'reject', ...local(), ...asAlice, '--workflow', 'nothing', '-m', 'x');
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/no pending approval requests of workflow nothing/);
    expect((await belay('approvals', 'approve', ref, ...local(), ...asAlice, '--workflow', 'plan-v1')).code).toBe(2);
  });
});

describe('belay approvals against a cluster', () => {
  let kube: FakeKube;
  let dir: string;
  let kubeconfig: string;
  let ref: string;

  beforeAll(async () => {
    kube = await startFakeKube({ username: 'carol' });
    dir = mkdtempSync(path.join(tmpdir(), 'belay-cli-kube-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kube.kubeConfig().exportConfig());
    ref = (await new ApprovalLifecycle({ store: new KubeApprovalStore(kube.kubeConfig()) }).resolve(deferred('k-1'))).approvalId!;
  });
  afterAll(async () => {
    await kube.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists and approves as the kubeconfig user, with decidedBy from the API server', async () => {
    const list = await belay('approvals', 'list', '--kubeconfig', kubeconfig, '-A');
    expect(list.out).toContain(ref.split('/')[1]);
    const r = await belay('approvals', 'approve', ref, '--kubeconfig', kubeconfig);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/^approved prod\/belay-[0-9a-f]{20} by carol/);
    expect(kube.requests).toContain(`PATCH /apis/belay.dev/v1alpha1/namespaces/prod/approvalrequests/${ref.split('/')[1]}/status`);
  });

  it('refuses --as in a cluster, where the kubeconfig says who you are', async () => {
    const r = await belay('approvals', 'approve', ref, '--kubeconfig', kubeconfig, '--as', 'alice');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--as and --as-group are for the local store/);
  });
});
