// Issue 5, approvals, on the real kube-apiserver with the real kubectl: an
// agent's deferred request becomes an ApprovalRequest, a human decides with
// kubectl or `belay approvals`, the agent's retry of the same request is
// admitted once. Separation of duties is the API server's answer (belay's
// webhooks on approvalrequests/status), not the CLI's.
//
// The agent's requests defer through the default policy's agent-context rule
// (context.low_confidence): a compliant Deployment in team-a whose
// belay.dev/confidence is below the threshold.

import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ns, paths, runId } from './harness/env.js';
import { expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { AGENT, admin, getObject, type KubectlResult, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { unsureDeployment } from './harness/objects.js';
import { run, waitFor } from './harness/proc.js';

interface ApprovalRequest {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { requester: { user: string }; request: { operation: string; name: string; namespace: string }; requiredBy: string; approverGroups: string[] };
  status?: {
    phase?: string;
    decidedBy?: string;
    decidedAt?: string;
    message?: string;
    override?: { patch?: unknown[] };
    consumption?: { requestUid: string; objectDigest: string };
  };
}

const gateway = new Gateway();
const NS = ns.dev;

const unsure = (name: string, replicas = 2): string => unsureDeployment({ name, namespace: NS, replicas });

/** The ApprovalRequest a denial points at (namespace/name): the last one it names (an earlier one may be the one that ended). */
function refIn(r: KubectlResult): { ns: string; name: string; ref: string } {
  const m = [...r.stderr.matchAll(/ApprovalRequest ([a-z0-9-]+)\/(belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1);
  expect(m, r.stderr).toBeDefined();
  return { ns: m![1]!, name: m![2]!, ref: `${m![1]}/${m![2]}` };
}

async function approvalsFor(name: string): Promise<ApprovalRequest[]> {
  const list = JSON.parse(await admin(['get', 'approvalrequests.belay.dev', '-n', NS, '-o', 'json'], undefined, { quiet: true })) as {
    items: ApprovalRequest[];
  };
  return list.items.filter((a) => a.spec.request.name === name);
}

async function approval(name: string): Promise<ApprovalRequest> {
  const a = await getObject<ApprovalRequest>(['approvalrequest', name], NS);
  expect(a, `approvalrequest ${name}`).toBeDefined();
  return a!;
}

/** `belay approvals …` as one of the cluster's identities (the compiled CLI, the kubeconfig's context). */
async function belay(context: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await run(process.execPath, [paths.gatewayMain, 'approvals', ...args, '--kubeconfig', paths.kubeconfig, '--context', context], { cwd: paths.root });
  return r;
}

const status = (phase: string, extra: Record<string, unknown> = {}) => [
  '--subresource=status',
  '--type=merge',
  '-p',
  JSON.stringify({ status: { phase, ...extra } }),
];
const SOD_DENIED = /admission webhook "approvals\.belay\.dev" denied the request/;

async function eventsOf(name: string): Promise<string[]> {
  const out = await admin(['get', 'events', '-n', NS, '--field-selector', `involvedObject.name=${name}`, '-o', 'json'], undefined, { quiet: true });
  return (JSON.parse(out) as { items: { reason: string }[] }).items.map((e) => e.reason);
}

/** The gateway's decision log for this file (--decision-log through the environment it inherits). */
const decisionLog = path.join(paths.out, 'approvals-decisions.log');

function loggedDecisions(): { verdict: string; approvalId: string | null; actor: { username: string } }[] {
  if (!existsSync(decisionLog)) return [];
  return readFileSync(decisionLog, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

beforeAll(async () => {
  rmSync(decisionLog, { force: true });
  process.env.BELAY_DECISION_LOG = decisionLog;
  await gateway.start();
  await installManifests();
});

afterAll(async () => {
  await gateway.stop();
  delete process.env.BELAY_DECISION_LOG;
});

describe('the approval lifecycle', () => {
  const name = `apr-life-${runId}`;

  it('denies the agent, records a Pending ApprovalRequest and says how to approve', async () => {
    transcriptSection('Approvals 1. Agent creates a low-confidence Deployment → deferred → ApprovalRequest Pending');
    const r = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
    expectDeferred(r);
    const { ns: where, name: apr, ref } = refIn(r);
    expect(where).toBe(NS);
    expect(r.stderr).toContain(`belay approvals approve ${ref}`);
    expect(r.stderr).toContain(`kubectl patch approvalrequest ${apr} -n ${NS} --subresource=status --type=merge -p '{"status":{"phase":"Approved"}}'`);
    expect(r.stderr).toMatch(/retry the same request/);
    expect(await getObject(['deployment', name], NS)).toBeUndefined();

    const a = await approval(apr);
    expect(a.status?.phase).toBe('Pending');
    expect(a.spec).toMatchObject({ requester: { user: AGENT }, request: { operation: 'CREATE', namespace: NS, name }, approverGroups: ['belay:approvers'] });
    const table = await kubectl('alice', ['get', 'approvalrequests', '-n', NS]);
    expect(table.stdout).toMatch(new RegExp(`${apr}\\s+Pending\\s+${AGENT}\\s+CREATE\\s+Deployment\\s+${name}\\s`));

    // The spec is what was asked for; not even an admin can rewrite it (CEL on the CRD).
    const rewrite = await kubectl('admin', ['patch', 'approvalrequest', apr, '-n', NS, '--type=merge', '-p', '{"spec":{"request":{"name":"other"}}}']);
    expect(rewrite.code).not.toBe(0);
    expect(rewrite.stderr).toMatch(/spec is immutable/);
  });

  it('is approved by alice with a kubectl status patch; decidedBy comes from the API server, not the patch', async () => {
    const { name: apr } = refIn(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) }));
    expectOk(await kubectl('alice', ['patch', 'approvalrequest', apr, '-n', NS, ...status('Approved', { decidedBy: 'carol', message: 'capacity is there' })]));
    const a = await approval(apr);
    expect(a.status).toMatchObject({ phase: 'Approved', decidedBy: 'alice', message: 'capacity is there' });
    expect(Math.abs(Date.parse(a.status!.decidedAt!) - Date.now())).toBeLessThan(60_000);
  });

  it("admits the agent's retry once, marks the approval Consumed, and denies the same retry again", async () => {
    const [a] = await approvalsFor(name);
    const retry = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
    expectOk(retry, new RegExp(`deployment.apps/${name} created`));
    expect(await getObject(['deployment', name], NS)).toBeDefined();
    const used = await approval(a!.metadata.name);
    expect(used.status?.phase).toBe('Consumed');
    expect(used.status?.consumption?.requestUid).toMatch(/^[0-9a-f-]{36}$/);

    const again = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
    expectDeferred(again);
    expect(again.stderr).toMatch(/already used once/);
    expect(refIn(again).name).toBe(`${a!.metadata.name}-2`);
  });

  it('reports the approval and its use as Kubernetes Events and in the decision log', async () => {
    const [a] = await approvalsFor(name);
    const ref = `${NS}/${a!.metadata.name}`;
    const logged = await waitFor(
      'approval records in the decision log',
      async () => {
        const mine = loggedDecisions().filter((d) => d.approvalId === ref);
        return mine.some((d) => d.verdict === 'consumed') ? mine : undefined;
      },
      15_000,
      300,
    );
    expect(logged.map((d) => [d.verdict, d.actor.username])).toEqual(
      expect.arrayContaining([
        ['defer', AGENT],
        ['approved', 'alice'],
        ['consumed', AGENT],
      ]),
    );
    const reasons = await waitFor(
      'approval events',
      async () => {
        const r = await eventsOf(a!.metadata.name);
        return r.includes('Approved') && r.includes('Consumed') ? r : undefined;
      },
      15_000,
      300,
    );
    expect(reasons).toEqual(expect.arrayContaining(['Approved', 'Consumed']));
    const lease = JSON.parse(await admin(['get', 'lease', 'belay-approvals', '-n', 'belay', '-o', 'json'], undefined, { quiet: true })) as {
      spec: { holderIdentity: string };
    };
    expect(lease.spec.holderIdentity).not.toBe('');
  });

  it('is approved with `belay approvals approve` by another approver', async () => {
    transcriptSection('Approvals 2. carol approves with the belay CLI; the retry is admitted');
    const other = `apr-cli-${runId}`;
    const { ref } = refIn(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(other) }));
    const shown = await belay('carol', ['show', ref]);
    expect(shown.stdout).toMatch(/confidence 0\.5, below the 0\.8 threshold/);
    const ok = await belay('carol', ['approve', ref, '-m', 'reviewed the SLO graph']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^approved ${ref} by carol`));
    expectOk(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(other) }));
    const list = await belay('carol', ['list', '-n', NS, '--phase', 'Consumed']);
    expect(list.stdout).toContain(ref.split('/')[1]);
  });
});

describe('separation of duties, enforced by the API server', () => {
  const name = `apr-sod-${runId}`;
  let apr: string;

  beforeAll(async () => {
    transcriptSection('Approvals 3. Who may not decide: the agent, bob, the gateway, the requester');
    apr = refIn(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) })).name;
  });

  it('refuses the agent approving its own request', async () => {
    const r = await kubectl('agent', ['patch', 'approvalrequest', apr, '-n', NS, ...status('Approved')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(SOD_DENIED);
    expect(r.stderr).toMatch(/agent identity, and agents may not approve or reject/);
    // The refusal is on record too.
    const refused = await waitFor(
      'the refusal in the decision log',
      async () => loggedDecisions().find((d) => d.verdict === 'approval-refused' && d.approvalId === `${NS}/${apr}`),
      10_000,
      200,
    );
    expect(refused.actor.username).toBe(AGENT);
  });

  it('refuses a human outside the approver groups, and the gateway itself', async () => {
    const bob = await kubectl('bob', ['patch', 'approvalrequest', apr, '-n', NS, ...status('Approved')]);
    expect(bob.stderr).toMatch(SOD_DENIED);
    expect(bob.stderr).toMatch(/only members of belay:approvers may decide this request; bob is not/);
    const gw = await kubectl('belay', [
      'patch',
      'approvalrequest',
      apr,
      '-n',
      NS,
      ...status('Approved', { decidedBy: 'system:serviceaccount:belay:belay', decidedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }),
    ]);
    expect(gw.stderr).toMatch(SOD_DENIED);
    expect(gw.stderr).toMatch(/the belay gateway may not change a decision|gateway cannot approve/);
    const cli = await belay('bob', ['approve', `${NS}/${apr}`]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/only members of belay:approvers/);
    expect((await approval(apr)).status?.phase).toBe('Pending');
  });

  it('refuses the requester: a human acting through the agents group may not approve their own request', async () => {
    const mine = `apr-dave-${runId}`;
    const asDaveAgent = ['--as', 'dave', '--as-group', 'belay:agents', '--as-group', 'system:authenticated'];
    const asDaveApprover = ['--as', 'dave', '--as-group', 'belay:approvers', '--as-group', 'system:authenticated'];
    const r = await kubectl('admin', [...asDaveAgent, 'create', '-f', '-'], { stdin: unsure(mine) });
    expectDeferred(r);
    const { name: daves } = refIn(r);
    expect((await approval(daves)).spec.requester.user).toBe('dave');
    const self = await kubectl('admin', [...asDaveApprover, 'patch', 'approvalrequest', daves, '-n', NS, ...status('Approved')]);
    expect(self.stderr).toMatch(SOD_DENIED);
    expect(self.stderr).toMatch(/dave made this request and may not decide it/);
    expect((await approval(daves)).status?.phase).toBe('Pending');
  });

  it('keeps a decision final', async () => {
    expectOk(await kubectl('alice', ['patch', 'approvalrequest', apr, '-n', NS, ...status('Approved')]));
    const flip = await kubectl('carol', ['patch', 'approvalrequest', apr, '-n', NS, ...status('Rejected', { message: 'changed my mind' })]);
    expect(flip.code).not.toBe(0);
    expect(flip.stderr).toMatch(/a decision is final/);
    expect((await approval(apr)).status).toMatchObject({ phase: 'Approved', decidedBy: 'alice' });
  });

  it('refuses ApprovalRequests made by anyone but the gateway', async () => {
    const forged = await kubectl('agent', ['create', '-f', '-'], {
      stdin: stringify({
        apiVersion: 'belay.dev/v1alpha1',
        kind: 'ApprovalRequest',
        metadata: { name: `forged-${runId}`, namespace: NS },
        spec: {
          requester: { user: 'someone-else' },
          request: { operation: 'CREATE', resource: 'deployments' },
          approverGroups: ['system:authenticated'],
          requiredBy: new Date(Date.now() + 600_000).toISOString(),
        },
      }),
    });
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toMatch(SOD_DENIED);
    expect(forged.stderr).toMatch(/created by the belay gateway/);
  });
});

describe('a rejected request', () => {
  const name = `apr-rej-${runId}`;

  it("stays refused with the approver's message", async () => {
    transcriptSection("Approvals 4. alice rejects; the agent's retries stay refused with her message");
    const { ref } = refIn(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) }));
    const r = await belay('alice', ['reject', ref, '-m', 'not during the freeze']);
    expect(r.code, r.stderr).toBe(0);
    for (let i = 0; i < 2; i++) {
      const retry = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
      expect(retry.code).not.toBe(0);
      expect(retry.stderr).toMatch(/rejected by alice: not during the freeze/);
    }
    const all = await approvalsFor(name);
    expect(all.map((a) => a.status?.phase)).toEqual(['Rejected']);
    expect(await getObject(['deployment', name], NS)).toBeUndefined();
  });
});

describe('twenty identical agent requests at once', () => {
  const name = `apr-herd-${runId}`;

  it('create exactly one ApprovalRequest', async () => {
    transcriptSection('Approvals 5. 20 concurrent identical agent requests → one ApprovalRequest');
    const results = await Promise.all(Array.from({ length: 20 }, () => kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) })));
    for (const r of results) expectDeferred(r);
    expect(new Set(results.map((r) => refIn(r).ref)).size).toBe(1);
    expect(await approvalsFor(name)).toHaveLength(1);
  });
});

describe('an edited approval', () => {
  const name = `apr-edit-${runId}`;

  it('admits the edited object, and only that', async () => {
    transcriptSection('Approvals 6. alice approves with an edit (replicas 3 → 1); the retry stores the edited object');
    const { ref, name: apr } = refIn(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name, 3) }));
    const edit = await belay('alice', ['edit', ref, '--patch', '[{"op":"replace","path":"/spec/replicas","value":1}]', '-m', 'one replica first']);
    expect(edit.code, edit.stderr).toBe(0);

    // Another object is another request: it does not ride on this approval.
    const other = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name, 4) });
    expectDeferred(other);
    expect(refIn(other).name).not.toBe(apr);

    const retry = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name, 3) });
    expectOk(retry);
    const stored = await getObject<{ spec: { replicas: number } }>(['deployment', name], NS);
    expect(stored!.spec.replicas).toBe(1);
    const a = await approval(apr);
    expect(a.status).toMatchObject({ phase: 'Consumed', override: { patch: [{ op: 'replace', path: '/spec/replicas', value: 1 }] } });
  });

  it('is checked by policy again: an edit policy denies is refused and the approval stays unused', async () => {
    const denied = `apr-edit-deny-${runId}`;
    const { ref, name: apr } = refIn(await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(denied) }));
    const edit = await belay('alice', [
      'edit',
      ref,
      '--patch',
      '[{"op":"add","path":"/spec/template/spec/containers/0/securityContext/privileged","value":true}]',
    ]);
    expect(edit.code, edit.stderr).toBe(0);
    const retry = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(denied) });
    expect(retry.code).not.toBe(0);
    expect(retry.stderr).toMatch(/the approver's edit is denied by policy: .*privileged/);
    expect(await getObject(['deployment', denied], NS)).toBeUndefined();
    expect((await approval(apr)).status?.phase).toBe('Approved');
  });
});

describe('expiry', () => {
  const name = `apr-ttl-${runId}`;

  beforeAll(async () => {
    // A gateway whose approvals live 4 seconds.
    await gateway.stop();
    process.env.BELAY_APPROVAL_TTL = '4s';
    try {
      await gateway.start();
    } finally {
      delete process.env.BELAY_APPROVAL_TTL;
    }
  });

  afterAll(async () => {
    await gateway.stop();
    await gateway.start();
  });

  it('marks an undecided request Expired at requiredBy; the retry asks anew', async () => {
    transcriptSection('Approvals 7. With a 4s TTL: Pending → Expired by the gateway; the retry creates a new request');
    const first = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
    const { name: apr } = refIn(first);
    const a = await approval(apr);
    expect(Date.parse(a.spec.requiredBy) - Date.now()).toBeLessThan(5_000);
    const expired = await waitFor(
      'the request to expire',
      async () => {
        const x = await approval(apr);
        return x.status?.phase === 'Expired' ? x : undefined;
      },
      30_000,
      500,
    );
    expect(expired.status?.decidedBy).toBeUndefined();
    // Too late to decide now.
    const late = await kubectl('alice', ['patch', 'approvalrequest', apr, '-n', NS, ...status('Approved')]);
    expect(late.code).not.toBe(0);

    const retry = await kubectl('agent', ['create', '-f', '-'], { stdin: unsure(name) });
    expectDeferred(retry);
    expect(retry.stderr).toMatch(/expired at .* so this is a new request/);
    expect(refIn(retry).name).toBe(`${apr}-2`);
    const reasons = await waitFor('the Expired event', async () => ((await eventsOf(apr)).includes('Expired') ? await eventsOf(apr) : undefined), 10_000, 300);
    expect(reasons).toContain('Expired');
  });
});
