// belay mcp in front of the real kubernetes-mcp-server (npm, pinned) on the
// e2e's real kube-apiserver, driven by the SDK's MCP client, with the real
// gateway (cluster mode: the agent's service-account token checked by a
// TokenReview, approvals as ApprovalRequests, decided with the belay CLI).
// Whether a request reached the API server is read from its own metrics.
//
// kubernetes-mcp-server runs as a non-agent identity (the admin): belay mcp is
// the enforcement point on this path, so the admission webhooks (which judge
// agent identities) stay out of it and an approved call runs as approved.

import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { gatewayUrl, ns, paths, runId } from './harness/env.js';
import { Gateway } from './harness/gateway.js';
import { admin, getObject } from './harness/kubectl.js';
import { deployment } from './harness/objects.js';
import { run, waitFor } from './harness/proc.js';

const out = path.join(paths.out, 'mcp');
const transcript = path.join(paths.out, 'mcp-transcript.md');
const gateway = new Gateway();
const names = { web: `mcp-web-${runId}`, other: `mcp-other-${runId}`, secret: `mcp-db-${runId}`, shell: `mcp-shell-${runId}`, sa: 'mcp-assistant' };
const SECRET_VALUE = `s3cr3t-${runId}-do-not-leak`;

let client: Client;
let stderrLog: string;

function kmsBinary(): string | undefined {
  try {
    return process.platform === 'linux' && process.arch === 'x64'
      ? createRequire(import.meta.url).resolve('kubernetes-mcp-server-linux-amd64/bin/kubernetes-mcp-server-linux-amd64')
      : undefined;
  } catch {
    return undefined;
  }
}
const kms = kmsBinary();

function note(text: string): void {
  appendFileSync(transcript, `${text}\n`);
}

beforeAll(async () => {
  if (!kms) return;
  mkdirSync(out, { recursive: true });
  writeFileSync(transcript, `# belay mcp → kubernetes-mcp-server 0.0.67 → kube-apiserver (run ${runId})\n`);
  // What the scenario acts on.
  await admin(['apply', '-f', '-'], deployment({ name: names.web, namespace: ns.production }));
  await admin(['apply', '-f', '-'], deployment({ name: names.other, namespace: ns.production }));
  await admin(
    ['apply', '-f', '-'],
    stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: names.secret, namespace: ns.dev }, stringData: { password: SECRET_VALUE } }),
  );
  await admin(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: names.shell, namespace: ns.production },
      spec: { nodeName: 'no-such-node', containers: [{ name: 'sh', image: 'busybox' }] },
    }),
  );
  // The agent: a service account; belay mcp presents its token, the gateway reviews it.
  await run(paths.kubectl, ['--kubeconfig', paths.kubeconfig, '--context', 'admin', 'create', 'serviceaccount', names.sa, '-n', ns.agents]);
  const token = (await admin(['create', 'token', names.sa, '-n', ns.agents, '--duration', '1h'])).trim();
  writeFileSync(path.join(out, 'agent-token'), `${token}\n`, { mode: 0o600 });
  // kubernetes-mcp-server's kubeconfig: the admin, in a context named for the cluster, with team-a as its namespace.
  const kubeconfig = path.join(out, 'kubeconfig');
  writeFileSync(kubeconfig, await admin(['config', 'view', '--raw', '--minify', '--context', 'admin']), { mode: 0o600 });
  await run(paths.kubectl, ['--kubeconfig', kubeconfig, 'config', 'rename-context', 'admin', 'belay-e2e']);
  await run(paths.kubectl, ['--kubeconfig', kubeconfig, 'config', 'set-context', '--current', `--namespace=${ns.dev}`]);

  await gateway.start();
  stderrLog = path.join(out, 'belay-mcp.stderr.log');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      paths.gatewayMain,
      'mcp',
      '--gateway',
      gatewayUrl,
      '--ca',
      path.join(paths.tls, 'ca.crt'),
      '--token-file',
      path.join(out, 'agent-token'),
      '--',
      kms,
      '--kubeconfig',
      kubeconfig,
      '--toolsets',
      'core,config',
      '--list-output',
      'yaml',
    ],
    cwd: paths.root,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (c: Buffer) => appendFileSync(stderrLog, c));
  client = new Client({ name: 'e2e-agent-host', version: '1' });
  await client.connect(transport);
}, 180_000);

afterAll(async () => {
  await client?.close();
  await gateway.stop();
});

const textOf = (r: unknown) => ((r as { content?: { text?: string }[] }).content ?? []).map((c) => c.text ?? '').join('\n');

/** Calls a tool through belay mcp and writes the exchange to the transcript. */
async function call(name: string, args: Record<string, unknown>) {
  const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as { isError?: boolean; content?: unknown[] };
  const text = textOf(r);
  note(`\n→ tools/call ${name} ${JSON.stringify(args)}\n← ${r.isError ? 'isError' : 'ok'}: ${text.length > 700 ? `${text.slice(0, 700)}…` : text}`);
  return { isError: r.isError === true, text };
}

/** Requests the API server answered with success: verb and resource, summed over the 2xx codes. */
async function apiRequests(verb: string, resource: string, subresource = ''): Promise<number> {
  const metrics = await admin(['get', '--raw', '/metrics'], undefined, { quiet: true });
  const re = new RegExp(`^apiserver_request_total\\{[^}]*resource="${resource}"[^}]*\\}`);
  return (
    metrics
      .split('\n')
      // Requests that changed something (2xx): a throttled (429) or repeated one (a 404 after a retried delete) is not a second change.
      .filter((l) => re.test(l) && l.includes(`verb="${verb}"`) && l.includes(`subresource="${subresource}"`) && /code="2\d\d"/.test(l))
      .reduce((n, l) => n + Number(l.split(' ').pop()), 0)
  );
}

async function belayCli(args: string[]): Promise<string> {
  const r = await run(process.execPath, [paths.gatewayMain, 'approvals', ...args, '--kubeconfig', paths.kubeconfig, '--context', 'alice'], { cwd: paths.root });
  note(`\n$ belay approvals ${args.join(' ')} --context alice\n${(r.stdout + r.stderr).trim()}`);
  if (r.code !== 0) throw new Error(`belay approvals ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const approvalIn = (text: string) => {
  const m = /ApprovalRequest ([a-z0-9-]+)\/(belay-[0-9a-f]+(?:-\d+)?)/.exec(text);
  if (!m) throw new Error(`no ApprovalRequest in: ${text}`);
  return { namespace: m[1]!, name: m[2]!, id: `${m[1]}/${m[2]}` };
};

describe.skipIf(!kms)('belay mcp → kubernetes-mcp-server → kube-apiserver', () => {
  it('lists the tools kubernetes-mcp-server offers (the default bundle denies none by name)', async () => {
    const tools = (await client.listTools()).tools.map((t) => t.name);
    note(`\n→ tools/list\n← ${tools.length} tools: ${tools.join(', ')}`);
    expect(tools).toEqual(expect.arrayContaining(['pods_list', 'resources_delete', 'resources_get', 'pods_exec', 'resources_create_or_update']));
  });

  it('lets a pod listing through', async () => {
    const r = await call('pods_list_in_namespace', { namespace: ns.production });
    expect(r.isError).toBe(false);
    expect(r.text).toContain(names.shell);
  });

  it('defers a Deployment delete in production: nothing reaches the API server until an approver says so, then it runs once', async () => {
    const deletes = await apiRequests('DELETE', 'deployments');
    const args = { apiVersion: 'apps/v1', kind: 'Deployment', name: names.web, namespace: ns.production };
    const first = await call('resources_delete', args);
    expect(first.isError).toBe(true);
    expect(first.text).toContain('[rule destructive.delete_production]');
    const approval = approvalIn(first.text);
    expect(await apiRequests('DELETE', 'deployments')).toBe(deletes);
    const ar = await getObject<{ status?: { phase?: string }; spec: { requester: { user: string } } }>(['approvalrequest', approval.name], approval.namespace);
    expect(ar?.spec.requester.user).toBe(`system:serviceaccount:${ns.agents}:${names.sa}`);
    expect(ar?.status?.phase ?? 'Pending').toBe('Pending');
    note(`\n(kube-apiserver: DELETE deployments ${deletes} before and after; ApprovalRequest ${approval.id} Pending)`);

    await belayCli(['approve', approval.id, '-m', 'the old test deployment, checked']);
    const retry = await call('resources_delete', args);
    expect(retry.isError).toBe(false);
    // The garbage collector may DELETE the Deployment once more when it finishes a foreground deletion:
    // wait until it is gone, then count.
    await waitFor('the Deployment gone', async () => ((await getObject(['deployment', names.web], ns.production)) === undefined ? true : undefined), 30_000);
    const after = await apiRequests('DELETE', 'deployments');
    expect(after).toBeGreaterThan(deletes);

    const again = await call('resources_delete', args);
    expect(again.isError).toBe(true);
    expect(again.text).toContain('was already used once');
    expect(await apiRequests('DELETE', 'deployments')).toBe(after);
    note(`\n(kube-apiserver: DELETE deployments ${deletes} → ${after} once the delete ran; unchanged by the refused third call)`);
  });

  it('keeps Secret values out of the result: the read is deferred, approved with an edit, and comes back redacted', async () => {
    const args = { apiVersion: 'v1', kind: 'Secret', name: names.secret };
    const first = await call('resources_get', args);
    expect(first.isError).toBe(true);
    expect(first.text).toContain('[rule secrets.read]');
    // No namespace given: kubernetes-mcp-server reads from its kubeconfig context's namespace, and belay judges that one.
    const approval = approvalIn(first.text);
    expect(approval.namespace).toBe(ns.dev);
    await belayCli(['edit', approval.id, '--arguments', JSON.stringify(args), '-m', 'go ahead, values redacted']);
    const r = await call('resources_get', args);
    expect(r.isError).toBe(false);
    expect(r.text).toContain(names.secret);
    expect(r.text).toContain('[REDACTED]');
    expect(r.text).not.toContain(Buffer.from(SECRET_VALUE).toString('base64'));
    expect(r.text).not.toContain(SECRET_VALUE);
  });

  it('defers an exec into a production pod; nothing reaches the API server', async () => {
    const before = await apiRequests('CONNECT', 'pods', 'exec');
    const posts = await apiRequests('POST', 'pods', 'exec');
    const r = await call('pods_exec', { name: names.shell, namespace: ns.production, command: ['id'] });
    expect(r.isError).toBe(true);
    expect(r.text).toContain('[rule interactive.exec]');
    approvalIn(r.text);
    expect(await apiRequests('CONNECT', 'pods', 'exec')).toBe(before);
    expect(await apiRequests('POST', 'pods', 'exec')).toBe(posts);
  });

  it('denies a privileged pod sent through resources_create_or_update with pss.baseline.privileged', async () => {
    // kubernetes-mcp-server applies server-side: a PATCH, which creates. (POSTs are left out: the
    // ReplicaSet controller creates pods for other tests' Deployments meanwhile.)
    const creates = (await apiRequests('PATCH', 'pods')) + (await apiRequests('APPLY', 'pods'));
    const pod = stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `mcp-priv-${runId}`, namespace: ns.dev },
      spec: { containers: [{ name: 'debug', image: 'busybox', securityContext: { privileged: true } }] },
    });
    const r = await call('resources_create_or_update', { resource: pod });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/^belay denied the call to resources_create_or_update: .*\[rule pss\.baseline\.privileged\]/);
    expect((await apiRequests('PATCH', 'pods')) + (await apiRequests('APPLY', 'pods'))).toBe(creates);
    expect(await getObject(['pod', `mcp-priv-${runId}`], ns.dev)).toBeUndefined();
  });

  it('answers a Deployment without a restricted security context with the compliant manifest instead of applying it', async () => {
    const before = await apiRequests('APPLY', 'deployments');
    // runAsUser set: the runAsNonRoot fix is safe whatever the image runs as (image-aware fixes need no registry here).
    const asRoot = deployment({ name: `mcp-root-${runId}`, namespace: ns.dev, podSecurityContext: { runAsUser: 1000 } });
    const r = await call('resources_create_or_update', { resource: asRoot });
    expect(r.isError).toBe(true);
    expect(r.text).toMatch(/the manifest is not compliant: .*\[rule pss\.restricted\./);
    expect(await apiRequests('APPLY', 'deployments')).toBe(before);
    const compliant = r.text.split('\n\n')[1]!;
    const again = await call('resources_create_or_update', { resource: compliant });
    expect(again.isError).toBe(false);
    const created = await getObject<{ spec: { template: { spec: { securityContext?: { runAsNonRoot?: boolean } } } } }>(
      ['deployment', `mcp-root-${runId}`],
      ns.dev,
    );
    expect(created?.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
  });

  it('fails closed when the gateway is down: nothing is forwarded', async () => {
    await gateway.stop();
    const deletes = await apiRequests('DELETE', 'deployments');
    const lists = await apiRequests('LIST', 'pods');
    const del = await call('resources_delete', { apiVersion: 'apps/v1', kind: 'Deployment', name: names.other, namespace: ns.production });
    const list = await call('pods_list', {});
    for (const r of [del, list]) {
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(
        /belay's gateway at https:\/\/127\.0\.0\.1:\d+ is unreachable: ECONNREFUSED.*Nothing was sent to the MCP server \(belay fails closed\)/,
      );
    }
    expect(await apiRequests('DELETE', 'deployments')).toBe(deletes);
    expect(await apiRequests('LIST', 'pods')).toBe(lists);
    expect(await getObject(['deployment', names.other], ns.production)).toBeDefined();
  });
});
