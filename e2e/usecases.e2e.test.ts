// The six human-in-the-loop use cases (shared/seeds/hitl-use-cases.txt),
// each through the face it belongs to, on the real API server:
//   1. destructive tool call        agent API (tool call), approver denies
//   2. protecting Secrets           agent API (tool call + tool result): [Approve] / [Edit] redaction
//   3. controlling MCP tools        agent API (tool call), approver edits to a RoleBinding
//   4. post-processing code         admission (mutating): compliant fix shown, then applied; the
//                                   fixed Deployment really rolls out and belay records it Succeeded
//   5. validating prompts           agent API (prompt)
//   6. retry after validation fails admission: a Deployment that really crash-loops (belay records it
//                                   Failed), a low-confidence fix deferred, approved, retried, and the
//                                   rollout recovers (Succeeded on the ApprovalRequest)
// The agent authenticates to the agent API with a real service-account token
// (TokenReview), and approvers decide with `belay approvals` as themselves.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { agentApi, belayApprovals, type Reply } from './harness/agent-api.js';
import { ns, runId } from './harness/env.js';
import { expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { admin, getObject, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { deployment } from './harness/objects.js';
import { waitFor } from './harness/proc.js';
import { e2eImages } from './harness/registry.js';
import { images, rolloutStatus, waitForPods } from './harness/workloads.js';

const gateway = new Gateway();
let token = '';

function api(method: 'GET' | 'POST', pathname: string, body?: unknown, bearer: string = token): Promise<Reply> {
  return agentApi(method, pathname, bearer, body);
}

const belayOk = belayApprovals;

beforeAll(async () => {
  await gateway.start();
  await installManifests();
  // The agent's own identity for the agent API: a real service account token, checked with a TokenReview.
  await admin(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'remediator', namespace: ns.agents } }));
  token = (await admin(['create', 'token', 'remediator', '-n', ns.agents, '--duration', '1h'], undefined, { quiet: true })).trim();
});

afterAll(async () => {
  await gateway.stop();
});

describe('the agent API authenticates with TokenReview', () => {
  it('accepts the service account token and refuses anything else', async () => {
    const ok = await api('POST', '/v1/prompts:check', { text: 'hello' });
    expect(ok.status).toBe(200);
    const bad = await api('POST', '/v1/prompts:check', { text: 'hello' }, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
    expect(bad.status).toBe(401);
  });
});

describe('use case 1: gating a destructive tool call', () => {
  const name = `test-web-${runId}`;
  const call = {
    tool: { name: 'resources_delete', arguments: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns.production, name } },
    target: {
      verb: 'delete',
      group: 'apps',
      version: 'v1',
      kind: 'Deployment',
      resource: 'deployments',
      namespace: ns.production,
      name,
      cluster: 'prod-billing',
    },
    context: { rationale: 'clean up old test deployments (env=test)' },
    onBehalfOf: 'bob',
    requestId: `uc1-${runId}`,
  };

  it('defers; the approver sees cluster and namespace, denies, and the agent is refused', async () => {
    transcriptSection('Use case 1. resources_delete in prod-billing → deferred; alice sees the target and denies');
    await admin(['apply', '-f', '-'], deployment({ name, namespace: ns.production }));
    const deferred = await api('POST', '/v1/tool-calls:evaluate', call);
    expect(deferred.status).toBe(200);
    expect(deferred.body).toMatchObject({
      decision: 'defer',
      approval: { phase: 'Pending', id: expect.any(String), url: expect.stringMatching(/^\/v1\/approvals\//) },
    });
    const { id, url } = deferred.body.approval;

    const shown = await belayOk('alice', ['show', id]);
    expect(shown).toMatch(/prod-billing/);
    expect(shown).toContain(name);

    // The MCP host long-polls while the human decides.
    const waiting = api('GET', `${url}?wait=30s`);
    await new Promise((r) => setTimeout(r, 500));
    await belayOk('alice', ['reject', id, '-m', 'wrong environment: this is prod-billing']);
    const decided = await waiting;
    expect(decided.body).toMatchObject({ id, phase: 'Rejected', decidedBy: 'alice', message: 'wrong environment: this is prod-billing' });

    const retried = await api('POST', '/v1/tool-calls:evaluate', { ...call, requestId: `uc1b-${runId}` });
    expect(retried.body).toMatchObject({ decision: 'deny', approval: { id, phase: 'Rejected' } });
    expect(await getObject(['deployment', name], ns.production)).toBeDefined();
  });
});

describe('use case 2: protecting Secrets from the model', () => {
  const name = `db-credentials-uc2-${runId}`;
  const toolFor = (output: string) => ({ name: 'resources_get', arguments: { apiVersion: 'v1', kind: 'Secret', namespace: ns.production, name, output } });

  beforeAll(async () => {
    await admin(['create', 'secret', 'generic', name, '-n', ns.production, '--from-literal=password=hunter2']);
  });

  async function approvedCall(output: string, decide: (id: string) => Promise<unknown>): Promise<{ id: string; secret: unknown }> {
    const tool = toolFor(output);
    const first = await api('POST', '/v1/tool-calls:evaluate', { tool, requestId: `uc2-${output}-${runId}` });
    expect(first.body).toMatchObject({ decision: 'defer', reasons: expect.arrayContaining([expect.objectContaining({ rule: 'secrets.read' })]) });
    await decide(first.body.approval.id);
    const run = await api('POST', '/v1/tool-calls:evaluate', { tool, requestId: `uc2-${output}-${runId}` });
    expect(run.body).toMatchObject({ decision: 'allow', approval: { phase: 'Approved' } });
    // What the MCP server read (it runs the call; here the admin stands in for it).
    const secret = JSON.parse(await admin(['get', 'secret', name, '-n', ns.production, '-o', 'json'], undefined, { quiet: true }));
    return { id: first.body.approval.id, secret };
  }

  it('[Edit]: the approver lets the call run with the values redacted', async () => {
    transcriptSection('Use case 2. resources_get Secret → deferred; alice approves with an edit → result redacted');
    const { id, secret } = await approvedCall('json', (id) =>
      belayOk('alice', ['edit', id, '--arguments', JSON.stringify(toolFor('json').arguments), '-m', 'redact the values']),
    );
    const r = await api('POST', '/v1/tool-results:redact', { tool: toolFor('json'), result: JSON.stringify(secret), approvalId: id });
    expect(r.body).toMatchObject({ decision: 'allow', format: 'json' });
    expect(JSON.parse(r.body.result).data.password).toBe('[REDACTED]');
    expect(r.body.result).not.toContain(Buffer.from('hunter2').toString('base64'));
  });

  it('[Approve]: the approver lets the raw values through for this call', async () => {
    transcriptSection('Use case 2. alice approves as is → the values reach the model');
    const { id, secret } = await approvedCall('yaml', (id) => belayOk('alice', ['approve', id, '-m', 'needed to debug']));
    const r = await api('POST', '/v1/tool-results:redact', { tool: toolFor('yaml'), result: stringify(secret), approvalId: id });
    expect(r.body).toMatchObject({ decision: 'allow', format: 'yaml', approval: { id, phase: 'Approved' } });
    expect(r.body.result).toContain(Buffer.from('hunter2').toString('base64'));
  });

  it('without an approval the result is redacted', async () => {
    const secret = await admin(['get', 'secret', name, '-n', ns.production, '-o', 'yaml'], undefined, { quiet: true });
    const r = await api('POST', '/v1/tool-results:redact', { tool: toolFor('yaml'), result: secret });
    expect(r.body.result).not.toContain(Buffer.from('hunter2').toString('base64'));
    expect(r.body.redactions.map((x: { pointer: string }) => x.pointer)).toContain('/data/password');
  });
});

describe('use case 3: controlling MCP tools (privilege escalation)', () => {
  const binding = `default-admin-${runId}`;
  const crb = stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: binding },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns.dev }],
  });
  const rb = stringify({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: binding, namespace: ns.dev },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns.dev }],
  });
  const call = {
    tool: { name: 'resources_create_or_update', arguments: { resource: crb } },
    target: { verb: 'create', group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', name: binding },
    requestId: `uc3-${runId}`,
  };

  it('defers the ClusterRoleBinding; the approver edits it to a namespaced RoleBinding; the edited call comes back', async () => {
    transcriptSection('Use case 3. resources_create_or_update ClusterRoleBinding cluster-admin → deferred; alice edits to a RoleBinding');
    const deferred = await api('POST', '/v1/tool-calls:evaluate', call);
    expect(deferred.body.decision).toBe('defer');
    expect(deferred.body.reasons.map((r: { rule: string }) => r.rule).join(' ')).toMatch(/rbac\./);
    const { id, url } = deferred.body.approval;

    await belayOk('alice', ['edit', id, '--arguments', JSON.stringify({ resource: rb }), '-m', 'namespace-level view for a dedicated account instead']);
    const seen = await api('GET', url);
    expect(seen.body).toMatchObject({ phase: 'Approved', edited: true, arguments: { resource: rb } });

    const run = await api('POST', '/v1/tool-calls:evaluate', call);
    expect(run.body).toMatchObject({
      decision: 'allow',
      edited: true,
      tool: { arguments: { resource: rb }, target: { kind: 'RoleBinding', namespace: ns.dev } },
    });
    expect(await getObject(['clusterrolebinding', binding])).toBeUndefined();
  });
});

interface Finished {
  spec: { change: { triggers: string[] } };
  status: { result: string; reason: string };
}

/** Waits for belay's final outcome of the newest watched change to `name` (its Outcome record). */
async function outcomeRecordOf(name: string, namespace: string, timeoutMs = 240_000): Promise<Finished> {
  return waitFor<Finished>(
    `the outcome of ${name}`,
    async () => {
      const list = JSON.parse(await admin(['get', 'outcomes.belay.dev', '-n', namespace, '-o', 'json'], undefined, { quiet: true })) as {
        items: {
          metadata: { creationTimestamp: string };
          spec: { change: { target: { name: string }; triggers: string[] } };
          status?: { result?: string; reason?: string };
        }[];
      };
      const mine = list.items
        .filter((r) => r.spec.change.target.name === name)
        .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
      const last = mine.at(-1);
      return last?.status?.result && last.status.result !== 'Watching' ? (last as unknown as Finished) : undefined;
    },
    timeoutMs,
    1_000,
  );
}

describe('use case 4: post-processing generated code', () => {
  const name = `node-app-${runId}`;
  // The team's own image, whose Dockerfile ends with a numeric USER: so runAsNonRoot is a safe fix, and the
  // compliant Deployment really runs on the simulated nodes.
  const manifest = () => deployment({ name, namespace: ns.dev, image: e2eImages().nonRoot });

  it('shows the compliant object before anything is stored, then applies it fixed, and the fixed Deployment rolls out', async () => {
    transcriptSection('Use case 4. Agent drafts a Deployment with no securityContext → belay shows the fix (dry run), then applies it');
    const preview = await kubectl('agent', ['apply', '--dry-run=server', '-o', 'yaml', '-f', '-'], { stdin: manifest() });
    expectOk(preview, /runAsNonRoot: true/);
    expect(preview.stderr).toMatch(/Warning: belay/);
    expect(await getObject(['deployment', name], ns.dev)).toBeUndefined();

    expectOk(await kubectl('agent', ['apply', '-f', '-'], { stdin: manifest() }));
    const stored = await getObject<{
      spec: { template: { spec: { securityContext?: { runAsNonRoot?: boolean }; containers: { securityContext?: { runAsNonRoot?: boolean } }[] } } };
    }>(['deployment', name], ns.dev);
    const spec = stored!.spec.template.spec;
    expect(spec.securityContext?.runAsNonRoot === true || spec.containers.every((c) => c.securityContext?.runAsNonRoot === true)).toBe(true);

    // The fixed Deployment runs: pods Ready, and belay records what became of its fix.
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));
    const outcome = await outcomeRecordOf(name, ns.dev);
    expect(outcome.status).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete' });
    expect(outcome.spec.change.triggers).toContain('fix');
  }, 360_000);
});

describe('use case 5: validating outgoing prompts', () => {
  it('a log dump with a live sha256~ token is stopped with the finding, and the redacted prompt passes', async () => {
    transcriptSection('Use case 5. Prompt with a sha256~ token → stopped; redacted prompt passes');
    const tokenText = `sha256~${'Q2x1c3RlclRva2VuRm9yRTJFVGVzdHNPbmx5MTIzNA'}x`;
    const text = `pod logs:\nI0101 12:00:00 login ok for user kube:admin token=${tokenText}\nimage sha256:${'9f'.repeat(32)} pulled`;
    const r = await api('POST', '/v1/prompts:check', { text, context: { workflow: 'ols-chat' } });
    expect(r.status).toBe(200);
    expect(r.body.decision).not.toBe('allow');
    expect(r.body.reasons[0].rule).toMatch(/^prompt\./);
    expect(r.body.findings).toHaveLength(1);
    expect(r.body.findings[0]).toMatchObject({ kind: 'cluster-token', line: 2 });
    expect(text.slice(r.body.findings[0].start, r.body.findings[0].end)).toBe(tokenText);
    expect(r.body.redacted).toBe(text.replace(tokenText, '[REDACTED]'));

    const edited = await api('POST', '/v1/prompts:check', { text: r.body.redacted });
    expect(edited.body).toMatchObject({ decision: 'allow', findings: [] });
  });
});

describe('use case 6: retry after validation fails', () => {
  const name = `nginx-${runId}`;
  // kwok decides a container's fate by its image (e2e/README.md): nginx failing on a config mounted
  // at the wrong path is staged with the crash-looping image; the fix corrects both.
  const nginx = (mountPath: string, annotations: Record<string, string> = {}, image = 'nginxinc/nginx-unprivileged:1.27') =>
    stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns.dev, labels: { app: name }, ...(Object.keys(annotations).length ? { annotations } : {}) },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                name: 'nginx',
                image,
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
                volumeMounts: [{ name: 'conf', mountPath }],
              },
            ],
            volumes: [{ name: 'conf', configMap: { name: `${name}-conf` } }],
          },
        },
      },
    });
  const fix = nginx('/etc/nginx/conf.d', {
    'belay.dev/workflow': 'nginx-mountpath-fix',
    'belay.dev/confidence': '0.65',
    'belay.dev/rationale': 'CrashLoopBackOff: the config is mounted at /etc/nginx/conf.dd (typo), nginx finds no server block',
    'belay.dev/remediation-target': `Deployment/${name}`,
  });

  it('the crash is seen, the proposed fix waits for a human, who approves it; the retry goes through and the rollout recovers', async () => {
    transcriptSection(
      'Use case 6. Agent deploys nginx (typo in mountPath) → it crash-loops (belay: Failed); the agent proposes a fix with low confidence → deferred; alice approves; retry applied; the rollout recovers (Succeeded)',
    );
    expectOk(await kubectl('agent', ['apply', '-f', '-'], { stdin: nginx('/etc/nginx/conf.dd', {}, images.crashLoop) }));
    // The validation loop: the pods really crash, and belay's watch of the agent's change says so.
    await waitForPods(
      ns.dev,
      `app=${name}`,
      'a pod in CrashLoopBackOff',
      (p) => p.some((x) => x.containers.some((c) => c.reason === 'CrashLoopBackOff')),
      60_000,
    );
    const crashed = await outcomeRecordOf(name, ns.dev);
    expect(crashed.status).toMatchObject({ result: 'Failed', reason: 'CrashLoopBackOff' });

    const proposed = await kubectl('agent', ['apply', '-f', '-'], { stdin: fix });
    expectDeferred(proposed);
    expect(proposed.stderr).toMatch(/context\.low_confidence/);
    const ref = /belay approvals approve ([a-z0-9-]+\/belay-[0-9a-f]+(?:-\d+)?)/.exec(proposed.stderr)?.[1];
    expect(ref, proposed.stderr).toBeDefined();

    const shown = await belayOk('alice', ['show', ref!]);
    expect(shown).toMatch(/mountPath|typo/);
    await belayOk('alice', ['approve', ref!, '-m', 'diagnosis checks out']);

    const retried = await kubectl('agent', ['apply', '-f', '-'], { stdin: fix });
    expectOk(retried);
    const stored = await getObject<{ spec: { template: { spec: { containers: { volumeMounts: { mountPath: string }[] }[] } } } }>(['deployment', name], ns.dev);
    expect(stored!.spec.template.spec.containers[0]!.volumeMounts[0]!.mountPath).toBe('/etc/nginx/conf.d');

    // The rollout recovers, and the approval records it.
    expectOk(await rolloutStatus(`deployment/${name}`, ns.dev, 120));
    const recovered = await waitFor(
      'the outcome on the approval',
      async () => {
        const [namespace, apr] = ref!.split('/') as [string, string];
        const a = await getObject<{ status?: { outcome?: { result: string; reason?: string } } }>(['approvalrequest', apr], namespace);
        const o = a?.status?.outcome;
        return o && o.result !== 'Watching' ? o : undefined;
      },
      240_000,
      1_000,
    );
    expect(recovered).toMatchObject({ result: 'Succeeded', reason: 'RolloutComplete' });
  }, 480_000);
});
