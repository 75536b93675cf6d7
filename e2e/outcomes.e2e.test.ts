// Did the change work? Outcomes on the fuller control plane (kwok plays the
// kubelet of three nodes; failures are staged by image, e2e/README.md), with
// the real gateway watching:
//   1. an agent's approved scale-up rolls out: the ApprovalRequest shows
//      Succeeded, and the agent waits for it on the agent API;
//   2. an agent's approved change to an image that crash-loops: Failed with
//      the reason, a rollback ApprovalRequest appears, an approver approves
//      it, the agent applies it, the rollout recovers: Succeeded;
//   3. a fix belay applied breaks the rollout (runAsNonRoot on a root image):
//      Failed, the remedy is the object without the fix, an approver applies
//      it with `belay approvals apply`, and it runs;
//   4. a workflow in automate whose changes fail three times in a row is
//      demoted: its next defer goes to a human; `belay trust report` says so.
// The crash-and-rollback transcript and the trust report are written to
// .build/e2e/outcomes-transcript.md and .build/e2e/trust-report.txt.
//
// The gateway serves the default policies with short windows (data
// outcomes.window 150s, settle 10s) and one workflow in automate.

import { appendFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { agentApi, belayApprovals, belayCli } from './harness/agent-api.js';
import { ns, paths, runId } from './harness/env.js';
import { expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { AGENT, admin, getObject, type KubectlResult, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { deployment, restrictedDeployment } from './harness/objects.js';
import { runOk, waitFor } from './harness/proc.js';
import { pushE2eImage } from './harness/registry.js';
import { images, rolloutStatus, waitForPods } from './harness/workloads.js';

/** Per run: a reused cluster keeps the breakers of earlier runs. */
const AUTOMATED = `restart-auto-${runId}`;
const decisionLog = path.join(paths.out, 'outcomes-decisions.log');
const transcript = path.join(paths.out, 'outcomes-transcript.md');
const gateway = new Gateway({ args: ['--decision-log', decisionLog] });
let bundle = '';
let token = '';

/** policies/ with short outcome windows and one workflow in automate, compiled like `make bundle`. */
async function outcomesBundle(): Promise<string> {
  const dir = path.join(paths.out, 'outcomes-policies');
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(paths.root, 'policies'), dir, { recursive: true });
  const file = path.join(dir, 'data.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { belay: { config: Record<string, any> } };
  data.belay.config.outcomes = { ...data.belay.config.outcomes, window: '150s', settle: '10s', notReadyAfter: '60s' };
  // The workflow is trusted for the agent that runs it, and only for it (trust.claimants).
  data.belay.config.trust = { ...data.belay.config.trust, workflows: { [AUTOMATED]: 'automate' }, claimants: { [AUTOMATED]: { users: [AGENT] } } };
  writeFileSync(file, JSON.stringify(data, null, 2));
  const out = path.join(paths.out, 'outcomes-bundle.tar.gz');
  // As `make bundle` builds it: the Gatekeeper templates compiled in.
  await runOk(process.execPath, [
    path.join(paths.root, 'dist', 'src', 'bundle', 'build-main.js'),
    '--opa',
    path.join(paths.bin, 'opa'),
    '--policies',
    dir,
    '--out',
    out,
    '--revision',
    `e2e-outcomes-${runId}`,
  ]);
  return out;
}

// --- the transcript the closing note quotes --------------------------------------

function note(text: string): void {
  mkdirSync(paths.out, { recursive: true });
  appendFileSync(transcript, `${text}\n`);
}

function step(title: string): void {
  transcriptSection(`Outcomes. ${title}`);
  note(`\n## ${title}\n`);
}

/** A command and what it printed, as a person would have seen it. */
function shown(r: KubectlResult | { command: string; stdout: string; stderr: string; code: number }): void {
  note(['```console', `$ ${r.command}`, r.stdout.trimEnd(), r.stderr.trimEnd(), `[exit ${r.code}]`, '```'].filter((l) => l !== '').join('\n'));
}

async function belayShown(context: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await belayCli(context, args);
  shown({ ...r, command: `belay ${args.join(' ')}   # as ${context}` });
  return r;
}

async function agentShown(args: string[], stdin?: string): Promise<KubectlResult> {
  const r = await kubectl('agent', args, stdin !== undefined ? { stdin } : {});
  shown(r);
  return r;
}

// --- reading what belay recorded --------------------------------------------------

interface Approval {
  metadata: { name: string; namespace: string };
  spec: {
    object: Record<string, any> | null;
    remedy?: { for: string; kind: string; reason: string };
    reasons: { rule: string }[];
    requester: { user: string };
  };
  status?: {
    phase?: string;
    outcome?: {
      result: string;
      reason?: string;
      message?: string;
      evidence?: string[];
      record: string;
      remedy?: { kind: string; approval?: string; note: string };
    };
  };
}

interface OutcomeRecord {
  metadata: { name: string; namespace: string; creationTimestamp: string };
  spec: { change: { id: string; target: { name: string }; triggers: string[]; approval?: string; remedyFor?: string } };
  status?: { result?: string; reason?: string; message?: string; evidence?: string[]; remedy?: { kind: string; approval?: string; note: string } };
}

function refIn(r: KubectlResult): string {
  const m = [...r.stderr.matchAll(/ApprovalRequest ([a-z0-9-]+\/belay-[0-9a-f]{20}(?:-\d+)?)/g)].at(-1);
  expect(m, r.stderr).toBeDefined();
  return m![1]!;
}

async function approval(ref: string): Promise<Approval> {
  const [namespace, name] = ref.split('/') as [string, string];
  const a = await getObject<Approval>(['approvalrequest', name], namespace);
  expect(a, `approvalrequest ${ref}`).toBeDefined();
  return a!;
}

const FINAL = ['Succeeded', 'Failed', 'Unknown'];

/** Waits for the ApprovalRequest's outcome to be final. */
async function outcomeOf(ref: string, timeoutMs = 240_000): Promise<NonNullable<NonNullable<Approval['status']>['outcome']>> {
  return waitFor(
    `the outcome on ${ref}`,
    async () => {
      const o = (await approval(ref)).status?.outcome;
      return o && FINAL.includes(o.result) ? o : undefined;
    },
    timeoutMs,
    1_000,
  );
}

/** The Outcome records of a target, oldest first. */
async function recordsOf(name: string, namespace: string): Promise<OutcomeRecord[]> {
  const list = JSON.parse(await admin(['get', 'outcomes.belay.dev', '-n', namespace, '-o', 'json'], undefined, { quiet: true })) as { items: OutcomeRecord[] };
  return list.items.filter((r) => r.spec.change.target.name === name).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
}

async function finishedRecords(name: string, namespace: string, count: number, timeoutMs = 180_000): Promise<OutcomeRecord[]> {
  return waitFor(
    `${count} finished outcome(s) of ${name}`,
    async () => {
      const done = (await recordsOf(name, namespace)).filter((r) => FINAL.includes(r.status?.result ?? ''));
      return done.length >= count ? done : undefined;
    },
    timeoutMs,
    1_000,
  );
}

/** RBAC for an approver who applies approved requests themselves in `namespace` (alice; belay grants nothing). */
function appliers(namespace: string): string {
  const meta = { name: 'belay-e2e-approver-apply', namespace };
  return [
    stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta,
      rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'update', 'patch'] }],
    }),
    stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: meta.name },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' }],
    }),
  ].join('---\n');
}

const lowConfidence = (name: string, workflow = 'scale-web') => ({
  'belay.dev/workflow': workflow,
  'belay.dev/confidence': '0.5',
  'belay.dev/remediation-target': `Deployment/${name}`,
  'belay.dev/rationale': 'e2e outcomes',
});

beforeAll(async () => {
  rmSync(decisionLog, { force: true });
  mkdirSync(paths.out, { recursive: true });
  writeFileSync(transcript, `# Outcomes: the crash-and-rollback scenario and the trust ladder (run ${runId})\n`);
  bundle = await outcomesBundle();
  paths.bundle = bundle;
  await gateway.start();
  await installManifests();
  await admin(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'remediator', namespace: ns.agents } }));
  token = (await admin(['create', 'token', 'remediator', '-n', ns.agents, '--duration', '1h'], undefined, { quiet: true })).trim();
}, 300_000);

afterAll(async () => {
  await gateway.stop();
});

describe('an approved scale-up', () => {
  const name = `out-scale-${runId}`;

  it('rolls out, and the ApprovalRequest (and the agent waiting on the agent API) shows Succeeded', async () => {
    step('1. An approved scale-up rolls out → Succeeded');
    await admin(['apply', '-f', '-'], restrictedDeployment({ name, namespace: ns.dev, replicas: 1 }));
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));
    const scale = [
      'scale',
      `deployment/${name}`,
      '-n',
      ns.dev,
      '--replicas=3',
      ...Object.entries(lowConfidence(name)).flatMap(([k, v]) => ['--as-user-extra', `${k}=${v}`]),
    ];
    const asked = await agentShown(scale);
    expectDeferred(asked);
    const ref = refIn(asked);
    await belayApprovals('alice', ['approve', ref, '-m', 'capacity is there']);
    expectOk(await agentShown(scale));

    // The agent waits on the agent API: the answer comes when the outcome changes.
    let view = (await agentApi('GET', `/v1/approvals/${ref}`, token)).body;
    const deadline = Date.now() + 240_000;
    while (!FINAL.includes(view?.outcome?.result) && Date.now() < deadline) {
      const r = await agentApi('GET', `/v1/approvals/${ref}?wait=50s&outcome=${view?.outcome?.result ?? 'none'}`, token, undefined, 70_000);
      expect(r.status).toBe(200);
      view = r.body;
    }
    note(`GET /v1/approvals/${ref} (the agent's long poll) → outcome:\n\n\`\`\`json\n${JSON.stringify(view.outcome, null, 2)}\n\`\`\``);
    expect(view.phase).toBe('Consumed');
    expect(view.outcome).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete' });
    expect((await approval(ref)).status?.outcome).toMatchObject({ result: 'Succeeded', record: expect.stringMatching(new RegExp(`^${ns.dev}/outcome-`)) });
    const pods = await waitForPods(ns.dev, `app=${name}`, '3 Ready pods', (p) => p.length === 3 && p.every((x) => x.ready));
    expect(pods).toHaveLength(3);
  }, 420_000);
});

describe('an approved change to an image that crash-loops', () => {
  const name = `out-crash-${runId}`;

  it('is Failed with the reason; the rollback belay proposes is approved, applied by the agent, and recovers', async () => {
    step('2. An approved change to a crash-looping image → Failed → rollback proposed → approved → applied → Succeeded');
    await admin(['apply', '-f', '-'], restrictedDeployment({ name, namespace: ns.dev, replicas: 2 }));
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));

    const change = restrictedDeployment({ name, namespace: ns.dev, replicas: 2, image: images.crashLoop, annotations: lowConfidence(name) });
    const asked = await agentShown(['apply', '-f', '-'], change);
    expectDeferred(asked);
    const ref = refIn(asked);
    const approved = await belayShown('alice', ['approvals', 'approve', ref, '-m', 'new build, go ahead']);
    expect(approved.code, approved.stderr).toBe(0);
    expectOk(await agentShown(['apply', '-f', '-'], change));

    const outcome = await outcomeOf(ref);
    expect(outcome).toMatchObject({ result: 'Failed', reason: 'CrashLoopBackOff' });
    expect(outcome.evidence?.join('\n')).toMatch(/waiting CrashLoopBackOff/);
    const remedyRef = outcome.remedy?.approval;
    expect(remedyRef, JSON.stringify(outcome)).toBeDefined();
    shown(await kubectl('alice', ['get', 'approvalrequests', '-n', ns.dev, '-o', 'wide']));
    const show = await belayShown('alice', ['approvals', 'show', ref]);
    expect(show.stdout).toMatch(/Outcome:\s+Failed \(CrashLoopBackOff\)/);
    const events = await waitFor(
      'the OutcomeFailed event on the Deployment',
      async () => {
        const r = await kubectl('admin', ['get', 'events', '-n', ns.dev, '--field-selector', `involvedObject.name=${name},reason=OutcomeFailed`, '-o', 'name']);
        return r.stdout.trim() ? r : undefined;
      },
      30_000,
      1_000,
    );
    expect(events.stdout).toMatch(/event/);
    shown(await kubectl('admin', ['describe', 'deployment', name, '-n', ns.dev]));

    // The remedy: a deferred ApprovalRequest linked to the failed one, for the agent's own rollback.
    const remedy = await approval(remedyRef!);
    expect(remedy.status?.phase ?? 'Pending').toBe('Pending');
    expect(remedy.spec.remedy).toMatchObject({ for: ref, kind: 'rollback' });
    expect(remedy.spec.requester.user).toBe(AGENT);
    expect(remedy.spec.reasons.map((r) => r.rule)).toContain('outcomes.remedy');
    await belayShown('alice', ['approvals', 'show', remedyRef!]);

    // The agent reads the remedy from the agent API and applies it: refused until approved, then admitted once.
    const api = await agentApi('GET', `/v1/approvals/${remedyRef}`, token);
    expect(api.status).toBe(200);
    expect(api.body.remedy).toMatchObject({ for: ref, kind: 'rollback' });
    const rollback = stringify(api.body.object);
    note(`The agent reads the remedy: GET /v1/approvals/${remedyRef} → object (the rollback), remedy ${JSON.stringify(api.body.remedy)}`);
    expectDeferred(await agentShown(['replace', '-f', '-'], rollback));
    expect((await belayShown('alice', ['approvals', 'approve', remedyRef!, '-m', 'roll it back'])).code).toBe(0);
    expectOk(await agentShown(['replace', '-f', '-'], rollback));
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));

    const recovered = await outcomeOf(remedyRef!);
    expect(recovered).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete' });
    expect((await approval(remedyRef!)).status?.phase).toBe('Consumed');
    const pods = await waitForPods(
      ns.dev,
      `app=${name}`,
      'the old image Ready again',
      (p) => p.length === 2 && p.every((x) => x.ready && x.containers[0]?.image.includes('nginx-unprivileged')),
    );
    expect(pods).toHaveLength(2);
    shown(await kubectl('alice', ['get', 'approvalrequests', '-n', ns.dev, '-o', 'wide']));
    shown(await kubectl('admin', ['get', 'outcomes.belay.dev', '-n', ns.dev, '-o', 'wide']));
  }, 600_000);
});

describe('a fix that breaks the rollout', () => {
  const name = `out-fix-${runId}`;

  it("is Failed; the remedy is the object without belay's fix, which an approver applies with belay approvals apply", async () => {
    step(
      '3. belay fixes runAsNonRoot for an image tag that runs as a non-root user, the tag is moved to a root image → Failed → the object without the fix → belay approvals apply → Succeeded',
    );
    // When the agent applies it, the tag runs as UID 65532: the runAsNonRoot fix is safe and belay applies it.
    const tag = `e2e/moving:${runId}`;
    const image = pushE2eImage(tag, '65532');
    const created = await agentShown(['apply', '-f', '-'], deployment({ name, namespace: ns.dev, replicas: 1, image }));
    expectOk(created);
    expect(created.stderr).toMatch(/Warning: belay fixed/);
    // The tag moves to an image that runs as root before the kubelet pulls it: the fix now stops the container.
    pushE2eImage(tag, '');
    note(`The tag ${image} was pushed again, now running as root (no USER), right after belay admitted the Deployment.`);
    const [failed] = await finishedRecords(name, ns.dev, 1);
    expect(failed!.status).toMatchObject({ result: 'Failed', reason: 'CreateContainerConfigError', remedy: { kind: 'unfix' } });
    expect(failed!.spec.change.triggers).toEqual(expect.arrayContaining(['fix', 'workload']));
    const remedyRef = failed!.status!.remedy!.approval!;
    const remedy = await approval(remedyRef);
    expect(remedy.spec.remedy).toMatchObject({ for: `${ns.dev}/${failed!.metadata.name}`, kind: 'unfix' });
    // The API server defaults an empty securityContext; belay's fix (runAsNonRoot) is not in it.
    expect(remedy.spec.object?.spec.template.spec.securityContext?.runAsNonRoot).toBeUndefined();

    expect((await belayShown('alice', ['approvals', 'approve', remedyRef, '-m', 'this image needs root; accepted for now'])).code).toBe(0);
    // apply acts with the approver's own credentials: belay grants nothing, RBAC decides.
    await admin(['delete', 'rolebinding,role', 'belay-e2e-approver-apply', '-n', ns.dev, '--ignore-not-found']);
    const forbidden = await belayShown('alice', ['approvals', 'apply', remedyRef]);
    expect(forbidden.code).not.toBe(0);
    expect(forbidden.stderr).toMatch(/User "alice" cannot update resource "deployments"/);
    await admin(['apply', '-f', '-'], appliers(ns.dev));
    const applied = await belayShown('alice', ['approvals', 'apply', remedyRef]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/^replaced Deployment/);
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));
    const recovered = await outcomeOf(remedyRef);
    expect(recovered).toMatchObject({ result: 'Succeeded' });
    expect((await approval(remedyRef)).status?.phase).toBe('Consumed');
  }, 600_000);
});

describe('a workflow in automate whose changes keep failing', () => {
  const name = `out-auto-${runId}`;

  it('is demoted after three failed outcomes in a row; its next defer goes to a human; the trust report says so', async () => {
    step(`4. Workflow ${AUTOMATED} in automate: three failed changes → demoted → the next defer goes to a human`);
    await admin(['apply', '-f', '-'], restrictedDeployment({ name, namespace: ns.dev, replicas: 1 }));
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));
    for (let i = 1; i <= 3; i++) {
      const r = await agentShown(
        ['apply', '-f', '-'],
        restrictedDeployment({
          name,
          namespace: ns.dev,
          replicas: 1,
          image: `${images.crashLoop.split(':')[0]}:${i}`,
          annotations: lowConfidence(name, AUTOMATED),
        }),
      );
      expectOk(r);
      expect(r.stderr).toMatch(/belay automate \(trusted, no approval needed\)/);
      const done = await finishedRecords(name, ns.dev, i);
      expect(done[i - 1]!.status).toMatchObject({ result: 'Failed', reason: 'CrashLoopBackOff' });
    }
    const cm = await waitFor(
      'the tripped breaker',
      async () => {
        const c = await getObject<{ data: Record<string, string> }>(['configmap', 'belay-trust-breakers'], 'belay');
        const state = c ? (JSON.parse(c.data['breakers.json']!) as { scopes: Record<string, { tripped?: { id: string; failures: number } }> }) : undefined;
        return state?.scopes[`workflow:${AUTOMATED}`]?.tripped;
      },
      30_000,
      1_000,
    );
    expect(cm.failures).toBe(3);
    note(`The breaker tripped: ${JSON.stringify(cm)}`);

    const next = await agentShown(
      ['apply', '-f', '-'],
      restrictedDeployment({ name, namespace: ns.dev, replicas: 1, annotations: lowConfidence(name, AUTOMATED) }),
    );
    expectDeferred(next);
    expect(next.stderr).toMatch(/context\.low_confidence/);
    expect(next.stderr).toMatch(new RegExp(`Warning: belay: workflow "${AUTOMATED}" is demoted from automate to approve: 3 automated changes in a row failed`));

    const report = await belayShown('admin', ['trust', 'report', '--bundle', bundle, '--decision-log', decisionLog]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(new RegExp(`${AUTOMATED}\\s+automate → approve \\(demoted\\)`));
    expect(report.stdout).toContain(`Breaker ${cm.id} tripped`);
    expect(report.stdout).toMatch(/SUCCEEDED\s+FAILED\s+UNKNOWN\s+SUCCESS/);
    writeFileSync(
      path.join(paths.out, 'trust-report.txt'),
      `$ belay trust report --bundle ${path.relative(paths.root, bundle)} --decision-log ${path.relative(paths.root, decisionLog)} --kubeconfig .cluster/kubeconfig\n${report.stdout}${report.stderr}`,
    );
  }, 600_000);
});
