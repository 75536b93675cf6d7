// The scenarios of issue 4, each driven through the real kubectl as the agent
// (system:serviceaccount:agents:remediator) or a human, against the real API
// server with belay registered by manifests/. Each test checks what kubectl
// printed and what the API server stored.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ns, runId } from './harness/env.js';
import { expectBelayDenied, expectDeferred, expectOk, rulesIn } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { admin, getObject, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { authzCounters } from './harness/metrics.js';
import { configMap, deployment, pod } from './harness/objects.js';
import { e2eImages } from './harness/registry.js';

interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type?: string } };
  containers: Array<{
    name: string;
    securityContext?: {
      runAsNonRoot?: boolean;
      allowPrivilegeEscalation?: boolean;
      capabilities?: { drop?: string[] };
      seccompProfile?: { type?: string };
    };
  }>;
}

interface ApprovalRequest {
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: { request: { operation: string; namespace?: string; name?: string; resource?: string } };
  status?: { phase?: string };
}

/** Every ApprovalRequest in the cluster, as `namespace/name@resourceVersion`. */
async function approvals(): Promise<ApprovalRequest[]> {
  const list = JSON.parse(await admin(['get', 'approvalrequests.belay.dev', '-A', '-o', 'json'], undefined, { quiet: true })) as { items: ApprovalRequest[] };
  return list.items;
}
const keys = (items: ApprovalRequest[]) => items.map((a) => `${a.metadata.namespace}/${a.metadata.name}@${a.metadata.resourceVersion}`).sort();

const gateway = new Gateway();

beforeAll(async () => {
  await gateway.start();
  // Again, with the CA the running gateway serves (it made one if absent).
  await installManifests();
});

afterAll(async () => {
  await gateway.stop();
});

describe('an agent applies a Deployment with no securityContext', () => {
  const name = `rooty-${runId}`;

  it("is admitted with belay's fixes in the stored object (its image runs as a non-root UID)", async () => {
    transcriptSection('1. Agent applies a Deployment with no securityContext, image user 65532 (team-a) → admitted, fixed');
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment({ name, namespace: ns.dev, image: e2eImages().nonRoot }) });
    expectOk(r, new RegExp(`deployment.apps/${name} created`));

    const stored = await getObject<{ spec: { template: { spec: PodSpec } } }>(['deployment', name], ns.dev);
    expect(stored).toBeDefined();
    const spec = stored!.spec.template.spec;
    const everyContainer = (pred: (c: PodSpec['containers'][number]) => boolean) => spec.containers.every(pred);
    expect(spec.securityContext?.runAsNonRoot === true || everyContainer((c) => c.securityContext?.runAsNonRoot === true), 'runAsNonRoot').toBe(true);
    expect(
      everyContainer((c) => c.securityContext?.allowPrivilegeEscalation === false),
      'allowPrivilegeEscalation: false',
    ).toBe(true);
    expect(
      everyContainer((c) => (c.securityContext?.capabilities?.drop ?? []).includes('ALL')),
      'capabilities.drop ALL',
    ).toBe(true);
    expect(
      spec.securityContext?.seccompProfile?.type === 'RuntimeDefault' || everyContainer((c) => c.securityContext?.seccompProfile?.type === 'RuntimeDefault'),
      'seccompProfile RuntimeDefault',
    ).toBe(true);
  });

  it('leaves the same Deployment from a human as written', async () => {
    const human = `rooty-human-${runId}`;
    expectOk(await kubectl('bob', ['apply', '-f', '-'], { stdin: deployment({ name: human, namespace: ns.dev }) }));
    const stored = await getObject<{ spec: { template: { spec: PodSpec } } }>(['deployment', human], ns.dev);
    expect(stored!.spec.template.spec.securityContext ?? {}).toEqual({});
    expect(stored!.spec.template.spec.containers[0]!.securityContext).toBeUndefined();
  });
});

describe('an agent creates a privileged pod', () => {
  it("is denied with belay's message naming the rule", async () => {
    transcriptSection('2. Agent creates a privileged pod → denied');
    const name = `priv-${runId}`;
    const r = await kubectl('agent', ['apply', '-f', '-'], {
      stdin: pod({ name, namespace: ns.dev, securityContext: { privileged: true } }),
    });
    expectBelayDenied(r, /pss\.baseline\.privileged/);
    expect(r.stderr).toMatch(/privileged/i);
    expect(await getObject(['pod', name], ns.dev)).toBeUndefined();
  });
});

describe('deleting a Deployment in a production namespace', () => {
  const name = `billing-${runId}`;

  beforeAll(async () => {
    transcriptSection('3. Agent deletes a Deployment in production → deferred; a human → deleted');
    await admin(['apply', '-f', '-'], deployment({ name, namespace: ns.production }));
  });

  it('by the agent: denied with a pointer to the approval, and the Deployment stays', async () => {
    const before = keys(await approvals());
    const r = await kubectl('agent', ['delete', 'deployment', name, '-n', ns.production]);
    expectDeferred(r);
    expect(r.stderr).toMatch(/ApprovalRequest|belay approvals|approvalrequest/i);
    expect(await getObject(['deployment', name], ns.production)).toBeDefined();

    // The deferral is recorded as an ApprovalRequest for exactly this request.
    const created = (await approvals()).filter((a) => !before.includes(keys([a])[0]!));
    expect(created.map((a) => a.spec.request)).toContainEqual(expect.objectContaining({ operation: 'DELETE', namespace: ns.production, name }));
  });

  it('by a human: deleted, untouched by belay', async () => {
    const r = await kubectl('bob', ['delete', 'deployment', name, '-n', ns.production]);
    expectOk(r, new RegExp(`deployment.apps "${name}" deleted`));
    expect(await getObject(['deployment', name], ns.production)).toBeUndefined();
  });
});

describe('production recognised by namespace label, kept current by the watch', () => {
  const name = `ledger-${runId}`;

  beforeAll(async () => {
    transcriptSection('3b. Agent deletes a Deployment in "payments" (labelled environment=Production) → deferred; relabelled → deleted');
    await admin(['apply', '-f', '-'], deployment({ name, namespace: ns.labelledProduction }));
  });

  afterAll(async () => {
    await admin(['label', 'namespace', ns.labelledProduction, 'environment=Production', '--overwrite']);
  });

  it('defers the delete although the name matches no production pattern', async () => {
    const r = await kubectl('agent', ['delete', 'deployment', name, '-n', ns.labelledProduction]);
    expectDeferred(r);
    expect(rulesIn(r.stderr)).toContain('destructive.delete_production');
  });

  it('allows it once the namespace is relabelled, without a gateway restart', async () => {
    await admin(['label', 'namespace', ns.labelledProduction, 'environment=staging', '--overwrite']);
    // The watch delivers the change asynchronously; retry briefly rather than sleep blindly.
    let r = await kubectl('agent', ['delete', 'deployment', name, '-n', ns.labelledProduction]);
    for (let i = 0; i < 20 && r.code !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      r = await kubectl('agent', ['delete', 'deployment', name, '-n', ns.labelledProduction]);
    }
    expectOk(r, new RegExp(`deployment.apps "${name}" deleted`));
  });
});

describe('a server-side dry run of a deferred change', () => {
  const name = `ledger-${runId}`;
  // An agent rolling a production Deployment to a new image and zero
  // replicas, with low confidence: a change policy defers to a human.
  const change = () =>
    deployment({
      name,
      namespace: ns.production,
      replicas: 0,
      image: 'registry.k8s.io/e2e-test-images/agnhost:2.54',
      annotations: { 'belay.dev/workflow': 'scale-down-v0', 'belay.dev/confidence': '0.3', 'belay.dev/rationale': 'e2e dry run' },
    });

  beforeAll(async () => {
    transcriptSection('4. Agent --dry-run=server of deferred changes → same answer, nothing created');
    await admin(['apply', '-f', '-'], deployment({ name, namespace: ns.production }));
  });

  it('gets the same answer as the real request and creates nothing, not even an ApprovalRequest', async () => {
    const before = keys(await approvals());
    // generation moves only when the spec does (the controllers keep writing status, and resourceVersion with it).
    const stored = await getObject<{ metadata: { generation: number }; spec: unknown }>(['deployment', name], ns.production);

    const dryDelete = await kubectl('agent', ['delete', 'deployment', name, '-n', ns.production, '--dry-run=server']);
    expectDeferred(dryDelete);
    const dryApply = await kubectl('agent', ['apply', '--dry-run=server', '-f', '-'], { stdin: change() });
    expectDeferred(dryApply);

    expect(keys(await approvals())).toEqual(before);
    const after = await getObject<{ metadata: { generation: number }; spec: unknown }>(['deployment', name], ns.production);
    expect(after?.metadata.generation).toBe(stored?.metadata.generation);
    expect(after?.spec).toEqual(stored?.spec);

    // The real requests: the same refusal, naming the same rules.
    const realDelete = await kubectl('agent', ['delete', 'deployment', name, '-n', ns.production]);
    expectDeferred(realDelete);
    expect(rulesIn(realDelete.stderr)).toEqual(rulesIn(dryDelete.stderr));
    const realApply = await kubectl('agent', ['apply', '-f', '-'], { stdin: change() });
    expectDeferred(realApply);
    expect(rulesIn(realApply.stderr)).toEqual(rulesIn(dryApply.stderr));
    expect(keys(await approvals()).length).toBeGreaterThan(before.length);
  });
});

describe('an agent execs into a pod in production', () => {
  it('is denied at admission (no node needed: admission runs before the kubelet is called)', async () => {
    transcriptSection('5. Agent kubectl exec into a production pod → denied at admission');
    const name = `api-${runId}`;
    // Bound to a node that does not exist: stored as Pending, never run.
    await admin(['apply', '-f', '-'], pod({ name, namespace: ns.production, nodeName: 'e2e-no-such-node' }));
    const r = await kubectl('agent', ['exec', name, '-n', ns.production, '--', 'cat', '/etc/hostname']);
    expectBelayDenied(r, /exec/i);
    // Not the kubelet's refusal: the request never got past admission.
    expect(r.stderr).not.toMatch(/e2e-no-such-node|no such host|nodes ".*" not found/);
  });
});

describe('an agent binds itself cluster-admin', () => {
  it('is stopped, and no binding is stored', async () => {
    transcriptSection('6. Agent binds itself cluster-admin → denied');
    const name = `agent-escalate-${runId}`;
    const r = await kubectl('agent', ['create', 'clusterrolebinding', name, '--clusterrole=cluster-admin', '--serviceaccount=agents:remediator']);
    expectBelayDenied(r, /cluster-admin|escalat|privilege/i);
    expect(await getObject(['clusterrolebinding', name])).toBeUndefined();
  });
});

describe('an agent reads a Secret', () => {
  it("is decided by belay's authorization webhook ahead of RBAC", async () => {
    transcriptSection('Agent reads a Secret → the API server asks belay (authorization webhook)');
    const name = `db-credentials-${runId}`;
    await admin(['create', 'secret', 'generic', name, '-n', ns.production, '--from-literal=password=hunter2']);
    const before = await authzCounters();
    const r = await kubectl('agent', ['get', 'secret', name, '-n', ns.production, '-o', 'name']);
    const after = await authzCounters();
    // belay answered (allow, deny or no opinion): the wiring works end to end.
    expect(after.success, `belay did not answer the SubjectAccessReview\n${r.stderr}`).toBeGreaterThan(before.success);
    expect(after.failed).toBe(before.failed);
    if (r.code !== 0) expect(r.stderr).toMatch(/forbidden/i);
  });
});

describe('with the gateway stopped', () => {
  const id = `down-${runId}`;

  beforeAll(async () => {
    transcriptSection('7. Gateway stopped → agent writes fail closed; human and admin writes succeed');
    await gateway.stop();
  });

  it('fails closed for agent writes', async () => {
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: configMap({ name: `agent-${id}`, namespace: ns.dev }) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/failed calling webhook "(mutate|validate)\.belay\.dev"/);
    expect(await getObject(['configmap', `agent-${id}`], ns.dev)).toBeUndefined();
  });

  it('lets human and admin writes through', async () => {
    for (const who of ['bob', 'admin'] as const) {
      const r = await kubectl(who, ['apply', '-f', '-'], { stdin: configMap({ name: `${who}-${id}`, namespace: ns.production }) });
      expectOk(r, new RegExp(`configmap/${who}-${id} created`));
      expect(await getObject(['configmap', `${who}-${id}`], ns.production)).toBeDefined();
    }
  });
});
