// Secret reads through belay's authorization webhook, on the real API server
// with the real kubectl: an agent's `kubectl get secret` is refused with
// belay's reason, a human's is allowed (RBAC decides), and an approved read is
// allowed for the read window and refused again after it.
//
// The gateway serves the default policies with one change, a short read
// window (data.belay.config.authorization.readWindow = 8s), so the expiry is
// observable within the test.

import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ns, paths, ports, runId } from './harness/env.js';
import { Gateway } from './harness/gateway.js';
import { AGENT, admin, kubectl, transcriptSection } from './harness/kubectl.js';
import { installManifests } from './harness/manifests.js';
import { authzCounters } from './harness/metrics.js';
import { run, runOk, waitFor } from './harness/proc.js';

const READ_WINDOW_S = 8;

/** policies/ with a short read window, compiled like `make bundle`. */
async function shortWindowBundle(): Promise<string> {
  const dir = path.join(paths.out, 'secrets-policies');
  // A fresh copy: files left from an earlier run's layout must not join this build.
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(paths.root, 'policies'), dir, { recursive: true });
  const dataFile = path.join(dir, 'data.json');
  const data = JSON.parse(readFileSync(dataFile, 'utf8')) as { belay: { config: Record<string, Record<string, unknown>> } };
  data.belay.config.authorization = { ...(data.belay.config.authorization ?? {}), readWindow: `${READ_WINDOW_S}s` };
  writeFileSync(dataFile, JSON.stringify(data, null, 2));
  const out = path.join(paths.out, 'secrets-bundle.tar.gz');
  mkdirSync(paths.out, { recursive: true });
  await runOk(path.join(paths.bin, 'opa'), [
    'build',
    '-t',
    'wasm',
    '--ignore',
    '*_test.rego',
    '--ignore',
    'gatekeeper',
    '--revision',
    `e2e-secrets-${runId}`,
    '-o',
    out,
    dir,
  ]);
  return out;
}

interface ApprovalRequest {
  metadata: { name: string; namespace: string };
  spec: { face: string; requester: { user: string }; request: { name: string; namespace: string; resource: string }; reasons: { rule: string }[] };
  status?: { phase?: string };
}

async function readApprovals(secret: string): Promise<ApprovalRequest[]> {
  const list = JSON.parse(await admin(['get', 'approvalrequests.belay.dev', '-A', '-o', 'json'], undefined, { quiet: true })) as { items: ApprovalRequest[] };
  return list.items.filter((a) => a.spec.face === 'authorization' && a.spec.request.name === secret);
}

/** `belay approvals …` as one of the cluster's identities. */
async function belay(context: string, args: string[]): Promise<string> {
  const r = await runOk(process.execPath, [paths.gatewayMain, 'approvals', ...args, '--kubeconfig', paths.kubeconfig, '--context', context], {
    cwd: paths.root,
  });
  return r.stdout;
}

const gateway = new Gateway();
const secret = `db-credentials-${runId}`;
const FORBIDDEN = new RegExp(
  `secrets "${secret}" is forbidden: User "${AGENT.replace(/[:.]/g, '\\$&')}" cannot get resource "secrets" in API group "" in the namespace "${ns.production}": belay: `,
);

beforeAll(async () => {
  paths.bundle = await shortWindowBundle();
  await gateway.start();
  await installManifests();
  await admin(['create', 'secret', 'generic', secret, '-n', ns.production, '--from-literal=password=hunter2']);
});

afterAll(async () => {
  await gateway.stop();
});

describe('an agent reads a Secret in production', () => {
  let approval = '';

  it("is refused with belay's reason, after kubectl's own prefix", async () => {
    transcriptSection('Secrets 1. Agent: kubectl get secret (prod-billing) → refused by belay, approval created');
    const before = await authzCounters();
    const r = await kubectl('agent', ['get', 'secret', secret, '-n', ns.production, '-o', 'name']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Error from server \(Forbidden\)/);
    expect(r.stderr).toMatch(FORBIDDEN);
    expect(r.stderr).toMatch(/\[rule secrets\.read\]/);
    expect(r.stderr).toMatch(/approv/i);
    const after = await authzCounters();
    expect(after.success).toBeGreaterThan(before.success);

    const pending = await readApprovals(secret);
    expect(pending).toHaveLength(1);
    expect(pending[0]!.spec.requester.user).toBe(AGENT);
    expect(pending[0]!.status?.phase ?? 'Pending').toBe('Pending');
    approval = `${pending[0]!.metadata.namespace}/${pending[0]!.metadata.name}`;
    expect(r.stderr).toContain(approval);
  });

  it("a human's read is allowed: belay is not even asked (matchConditions), RBAC decides", async () => {
    transcriptSection('Secrets 2. Human (bob): kubectl get secret → allowed by RBAC');
    const before = await authzCounters();
    const r = await kubectl('bob', ['get', 'secret', secret, '-n', ns.production, '-o', 'name']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(`secret/${secret}`);
    const after = await authzCounters();
    expect(after.success).toBe(before.success);
    expect(after.excluded).toBeGreaterThan(before.excluded);
  });

  it('once approved, the read is allowed for the window', async () => {
    transcriptSection(`Secrets 3. Approver (alice) approves; agent reads again → allowed for ${READ_WINDOW_S}s`);
    await belay('alice', ['approve', approval, '-m', 'checking the crash, values needed']);
    const r = await kubectl('agent', ['get', 'secret', secret, '-n', ns.production, '-o', 'jsonpath={.data.password}']);
    expect(r.code, r.stderr).toBe(0);
    expect(Buffer.from(r.stdout, 'base64').toString()).toBe('hunter2');
    // A second read inside the window (kubectl retries, a follow-up get) is allowed too.
    const again = await kubectl('agent', ['get', 'secret', secret, '-n', ns.production, '-o', 'name']);
    expect(again.code, again.stderr).toBe(0);
  });

  it('after the window the read is refused again and needs a new approval', async () => {
    transcriptSection('Secrets 4. After the read window: agent reads again → refused, a new approval');
    const r = await waitFor(
      'the read window to end',
      async () => {
        const x = await kubectl('agent', ['get', 'secret', secret, '-n', ns.production, '-o', 'name'], { note: 'waiting for the window to close' });
        return x.code !== 0 ? x : undefined;
      },
      (READ_WINDOW_S + 10) * 1_000,
      2_000,
    );
    expect(r.stderr).toMatch(FORBIDDEN);
    const all = await readApprovals(secret);
    expect(all.length).toBe(2);
    const fresh = all.find((a) => `${a.metadata.namespace}/${a.metadata.name}` !== approval)!;
    expect(fresh.status?.phase ?? 'Pending').toBe('Pending');
    expect(r.stderr).toContain(`${fresh.metadata.namespace}/${fresh.metadata.name}`);
  });

  it("an agent's list of every Secret in a namespace is refused too", async () => {
    const r = await kubectl('agent', ['get', 'secrets', '-n', ns.production]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/cannot list resource "secrets" .*: belay: /);
  });
});

describe('an agent impersonating someone', () => {
  it('is stopped by belay, since the impersonated request would reach admission as the other identity', async () => {
    transcriptSection('Secrets 5. Agent (its own token) runs kubectl --as alice → refused by belay');
    await admin(['apply', '-f', '-'], stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'remediator', namespace: ns.agents } }));
    const token = (await admin(['create', 'token', 'remediator', '-n', ns.agents, '--duration', '10m'], undefined, { quiet: true })).trim();
    const server = `https://127.0.0.1:${ports.apiserver}`;
    const r = await run(paths.kubectl, [
      '--kubeconfig',
      '/dev/null',
      '--server',
      server,
      '--certificate-authority',
      path.join(paths.cluster, 'pki', 'ca.crt'),
      '--token',
      token,
      '--as',
      'alice',
      'get',
      'configmaps',
      '-n',
      ns.dev,
    ]);
    expect(r.code).not.toBe(0);
    // Kubernetes asks first with constrained impersonation's verb for the request (impersonate-on:user-info:list),
    // then with the classic impersonate on users; belay defers both.
    expect(r.stderr).toMatch(
      /is forbidden: User "system:serviceaccount:agents:remediator" cannot impersonate[\w:-]* resource "(configmaps|users)" .*: belay: approval required: impersonating /,
    );
    expect(r.stderr).toMatch(/\[rule authz\.impersonate\]/);
  });
});
