// Gatekeeper ConstraintTemplates and Constraints in belay's bundle
// (policies/gatekeeper/, their Constraints match namespaces named gk-*),
// driven through the real kubectl as the agent: a required-labels Constraint
// denies with the template's message, a warn Constraint prints a kubectl
// warning, a defer Constraint creates an ApprovalRequest, and the unique
// Ingress host template sees an Ingress an admin created, through the
// gateway's inventory watch.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runId } from './harness/env.js';
import { expectBelayDenied, expectDeferred, expectOk } from './harness/expect.js';
import { Gateway } from './harness/gateway.js';
import { admin, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';

const nsA = `gk-${runId}`;
const nsB = `gk-${runId}-b`;
const gateway = new Gateway();

/** A Deployment that passes belay's own rules (restricted Pod Security), with the given labels, image and replicas. */
function deployment(name: string, o: { labels?: Record<string, string>; image?: string; replicas?: number }): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: nsA, labels: { app: name, ...o.labels } },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'web',
              image: o.image ?? 'registry.k8s.io/e2e-test-images/agnhost:2.53',
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  });
}

function ingress(name: string, namespace: string, host: string): string {
  return JSON.stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace },
    spec: { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
  });
}

beforeAll(async () => {
  await gateway.start();
  await installManifests();
  for (const n of [nsA, nsB]) await admin(['create', 'namespace', n]);
});

afterAll(async () => {
  for (const n of [nsA, nsB]) await kubectl('admin', ['delete', 'namespace', n, '--wait=false'], { quiet: true });
  await gateway.stop();
});

describe('Gatekeeper Constraints from the bundle judge an agent’s kubectl', () => {
  it('a required-labels Constraint denies with the template’s message', async () => {
    transcriptSection('G1. Agent applies a Deployment without the owner label (gk-*) → denied by a Gatekeeper Constraint');
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment(`unlabelled-${runId}`, {}) });
    expectBelayDenied(r, /\[rule gatekeeper\.BelayRequiredLabels\/gk-owner-label\]/);
    expect(r.stderr).toMatch(new RegExp(`Deployment unlabelled-${runId} must have the labels \\{"owner"\\}`));
  });

  it('a warn Constraint admits with a kubectl warning', async () => {
    transcriptSection('G2. Agent applies a Deployment with the :latest tag → admitted with a warning');
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment(`latest-${runId}`, { labels: { owner: 'sre' }, image: 'nginx:latest' }) });
    expectOk(r, new RegExp(`deployment.apps/latest-${runId} created`));
    expect(r.stderr).toMatch(
      /Warning: belay warning: container web uses image nginx:latest: the tag "latest" is not allowed .*\(gatekeeper\.BelayDisallowedTags\/gk-no-latest\)/,
    );
  });

  it('a defer Constraint creates an ApprovalRequest', async () => {
    transcriptSection('G3. Agent applies a Deployment with 5 replicas → deferred to an approver');
    const name = `scaled-${runId}`;
    const r = await kubectl('agent', ['apply', '-f', '-'], { stdin: deployment(name, { labels: { owner: 'sre' }, replicas: 5 }) });
    expectDeferred(r);
    expect(r.stderr).toMatch(/gatekeeper\.BelayReplicaLimit\/gk-replicas/);
    const list = JSON.parse(await admin(['get', 'approvalrequests.belay.dev', '-n', nsA, '-o', 'json'], undefined, { quiet: true })) as {
      items: { spec: { request: { name?: string }; reasons?: { rule: string }[] }; status?: { phase?: string } }[];
    };
    const mine = list.items.filter((a) => a.spec.request.name === name);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.status?.phase ?? 'Pending').toBe('Pending');
    expect(JSON.stringify(mine[0]!.spec)).toContain('gatekeeper.BelayReplicaLimit/gk-replicas');
  });

  it('a referential template sees existing Ingresses through the inventory', async () => {
    transcriptSection('G4. Admin creates an Ingress; the agent claims the same host in another namespace → denied');
    const host = `shop-${runId}.example.com`;
    await admin(['apply', '-f', '-'], ingress('storefront', nsB, host));
    // The gateway's watch sees the admin's Ingress within moments; retry until it has.
    let r = await kubectl('agent', ['apply', '-f', '-'], { stdin: ingress('web', nsA, host) });
    const deadline = Date.now() + 60_000;
    while (r.code === 0 && Date.now() < deadline) {
      await kubectl('admin', ['delete', 'ingress', 'web', '-n', nsA, '--ignore-not-found'], { quiet: true });
      await new Promise((res) => setTimeout(res, 1_000));
      r = await kubectl('agent', ['apply', '-f', '-'], { stdin: ingress('web', nsA, host) });
    }
    expectBelayDenied(r, /\[rule gatekeeper\.BelayUniqueIngressHost\/gk-unique-host\]/);
    expect(r.stderr).toContain(`ingress host "${host}" is already used by Ingress ${nsB}/storefront`);
    // Another host is free.
    expectOk(await kubectl('agent', ['apply', '-f', '-'], { stdin: ingress('web', nsA, `other-${runId}.example.com`) }));
  });
});
