// belay installed the way users install it: `helm install` of the chart into
// the real API server, then two gateway replicas run exactly as the installed
// Deployment says (its command, args and environment over the image's ENV,
// the pod's service account from the TokenRequest API, the overlay
// ConfigMap as a volume — e2e/harness/pod.ts), in cluster mode and TLS mode
// self. The one deviation from the chart: the webhook configurations call
// https://127.0.0.1:PORT instead of the Service (no kubelet, no cluster DNS
// here). Then, as installed:
//
// - an agent's privileged pod is denied;
// - a deferred delete creates an ApprovalRequest in the cluster (nothing on
//   the pods' disks), and `belay approvals list` in the pod lists it with no
//   flags (in-cluster configuration);
// - a Secret read is gated, once the API server runs the authorization
//   configuration the chart rendered (copied as the install notes say);
// - the serving certificate and the CA rotate (short lifetimes) while
//   requests flow through the API server and straight to both replicas, and
//   none fails;
// - `helm uninstall` leaves no webhook configuration behind, though the
//   gateways are still running.
//
// While it runs, the suite's own installation's approvals webhooks are set
// aside: a cluster holds one belay installation's ApprovalRequests (each
// installation lets only its own gateway create them).

import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ns, paths, ports, runId } from './harness/env.js';
import { BELAY_DENIED, expectDeferred } from './harness/expect.js';
import { admin, getObject, kubectl, transcribe, transcriptSection } from './harness/kubectl.js';
import { deployment, pod } from './harness/objects.js';
import { type DeploymentLike, execInPod, type PodProcess, startPodProcess } from './harness/pod.js';
import { run, waitFor } from './harness/proc.js';

const base = Number(process.env.BELAY_INSTALL_PORT_BASE ?? 19500);
const release = `belay-inst-${runId}`;
const namespace = release;
const agentsGroup = `belay-e2e:install-agents-${runId}`;
const asAgent = ['--as', 'install-bot', '--as-group', agentsGroup];
const WEBHOOK_KINDS = ['mutatingwebhookconfiguration', 'validatingwebhookconfiguration'] as const;
/** The chart's four webhook configurations, and which replica each calls here. */
const configs = [
  { kind: 'mutatingwebhookconfiguration', name: release, replica: 0 },
  { kind: 'validatingwebhookconfiguration', name: release, replica: 1 },
  { kind: 'mutatingwebhookconfiguration', name: `${release}-approvals`, replica: 0 },
  { kind: 'validatingwebhookconfiguration', name: `${release}-approvals`, replica: 1 },
] as const;
/** Lifetimes short enough to see the certificate and the CA rotate within the test. */
const values = {
  agents: { serviceAccountNamespaces: [], groups: [agentsGroup] },
  crds: { install: false }, // the suite's install owns approvalrequests.belay.dev
  replicas: 2,
  tls: { extraIPAddresses: ['127.0.0.1'], self: { duration: '30s', caDuration: '100s' } },
};

const replicas: PodProcess[] = [];
/** Every process started, replaced ones included (stopped at the end). */
const started: PodProcess[] = [];
/** The suite's approvals webhook configurations, set aside while this installation runs. */
const setAside: { kind: string; object: Record<string, any> }[] = [];
const authzConfig = path.join(paths.cluster, 'authorization-config.yaml');
let authzOriginal: string | undefined;

async function helm(args: string[], note?: string) {
  const r = await run(paths.helm, ['--kubeconfig', paths.kubeconfig, '--kube-context', 'admin', ...args], { timeoutMs: 180_000 });
  transcribe({ ...r, command: ['helm', ...args].join(' ') }, note ? { note } : {});
  return r;
}

// --- talking to the API server and the replicas directly ---------------------

const pki = (f: string) => readFileSync(path.join(paths.cluster, 'pki', f));

/** A request to the API server as the admin (client certificate), optionally impersonating. */
function api(method: string, pathname: string, body?: unknown, impersonate?: { user: string; groups: string[] }): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | string[]> = payload
      ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
      : {};
    if (impersonate) {
      headers['impersonate-user'] = impersonate.user;
      headers['impersonate-group'] = impersonate.groups;
    }
    const req = https.request(
      {
        host: '127.0.0.1',
        port: ports.apiserver,
        path: pathname,
        method,
        headers,
        ca: pki('ca.crt'),
        cert: pki('admin.crt'),
        key: pki('admin.key'),
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** One request to a replica on a connection of its own (a fresh handshake), trusting `ca`; the certificate it served. */
function direct(
  port: number,
  ca: string | undefined,
  pathname: string,
  body?: unknown,
): Promise<{ status: number; body: any; serial: string; issuer: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: pathname,
        method: payload ? 'POST' : 'GET',
        agent: false,
        ...(ca ? { ca } : { rejectUnauthorized: false }),
        headers: payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {},
        timeout: 15_000,
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            body: text.startsWith('{') ? JSON.parse(text) : text,
            serial: peer.serialNumber,
            issuer: String(peer.issuer?.CN),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The CA bundle the API server is told to trust: the caBundle of the validating webhook configuration. */
async function publishedBundle(): Promise<string | undefined> {
  const r = await api('GET', `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${release}`);
  const b64: string | undefined = r.body?.webhooks?.[0]?.clientConfig?.caBundle;
  return b64 ? Buffer.from(b64, 'base64').toString() : undefined;
}

/** A Pod an agent may create (every check of the default policy passes). */
const compliantPod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns.dev, labels: { app: name } },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 101, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'web',
        image: 'nginxinc/nginx-unprivileged:1.27',
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      },
    ],
  },
});

/** The AdmissionReview the API server would send for the agent's create of `object`. */
const reviewOf = (object: object, uid: string) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    requestKind: { group: '', version: 'v1', kind: 'Pod' },
    requestResource: { group: '', version: 'v1', resource: 'pods' },
    name: (object as { metadata: { name: string } }).metadata.name,
    namespace: ns.dev,
    operation: 'CREATE',
    userInfo: { username: 'install-bot', groups: [agentsGroup, 'system:authenticated'] },
    object,
    oldObject: null,
    dryRun: true,
    options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
  },
});

// --- requests flowing the whole time ---------------------------------------------

interface Traffic {
  ok: number;
  /** 429 from the API server's priority and fairness: the client backs off and asks again, as kubectl does. */
  throttled: number;
  failed: string[];
  serials: Set<string>;
  issuers: Set<string>;
}

const traffic = {
  viaApiServer: { ok: 0, throttled: 0, failed: [] as string[], serials: new Set<string>(), issuers: new Set<string>() } as Traffic,
  direct: { ok: 0, throttled: 0, failed: [] as string[], serials: new Set<string>(), issuers: new Set<string>() } as Traffic,
  stop: false,
  startedAt: 0,
  loops: [] as Promise<void>[],
};

/** Agents' dry-run pod creates through the API server: every one goes through both replicas' webhooks. */
async function apiServerLoop(): Promise<void> {
  for (let i = 0; !traffic.stop; i++) {
    const name = `flow-${runId}-${i}`;
    try {
      const r = await api('POST', `/api/v1/namespaces/${ns.dev}/pods?dryRun=All`, compliantPod(name), { user: 'install-bot', groups: [agentsGroup] });
      if (r.status === 201) traffic.viaApiServer.ok++;
      else if (r.status === 429) {
        traffic.viaApiServer.throttled++;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      } else traffic.viaApiServer.failed.push(`${new Date().toISOString()} ${r.status} ${typeof r.body === 'string' ? r.body : r.body?.message}`);
    } catch (err) {
      traffic.viaApiServer.failed.push(`${new Date().toISOString()} ${String(err)}`);
    }
  }
}

/** /validate straight to a replica, a new TLS connection each time, trusting what the webhooks publish (as the API server does). */
async function directLoop(replica: number): Promise<void> {
  let bundle = await publishedBundle();
  let read = Date.now();
  for (let i = 0; !traffic.stop; i++) {
    if (Date.now() - read > 500) {
      bundle = (await publishedBundle().catch(() => bundle)) ?? bundle;
      read = Date.now();
    }
    const uid = `${replica}-${i}`;
    try {
      // replicas[] changes when one is replaced: the traffic follows, as a Service's endpoints would.
      const r = await direct(replicas[replica]!.port, bundle, '/validate', reviewOf(compliantPod(`direct-${runId}-${i}`), uid));
      if (r.status === 200 && r.body?.response?.uid === uid) {
        traffic.direct.ok++;
        traffic.direct.serials.add(r.serial);
        traffic.direct.issuers.add(r.issuer);
      } else traffic.direct.failed.push(`${new Date().toISOString()} ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    } catch (err) {
      traffic.direct.failed.push(`${new Date().toISOString()} ${String(err)}`);
    }
  }
}

async function stopTraffic(): Promise<void> {
  traffic.stop = true;
  await Promise.all(traffic.loops.splice(0));
}

// --- the suite's own installation, set aside and put back ------------------------

async function setAsideSuiteApprovals(): Promise<void> {
  for (const kind of WEBHOOK_KINDS) {
    const o = await getObject<Record<string, any>>([kind, 'belay-approvals']);
    if (!o) continue;
    setAside.push({ kind, object: o });
    await admin(['delete', kind, 'belay-approvals'], undefined, { note: "the suite's own approvals webhook, set aside while this installation runs" });
  }
}

async function restoreSuiteApprovals(): Promise<void> {
  for (const { kind, object } of setAside.splice(0)) {
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, generation: _g, ...metadata } = object.metadata;
    await admin(['apply', '-f', '-'], JSON.stringify({ ...object, metadata }), { quiet: true, note: `restore ${kind}/belay-approvals` });
  }
}

async function restoreAuthorization(): Promise<void> {
  if (authzOriginal === undefined) return;
  writeFileSync(authzConfig, authzOriginal);
  authzOriginal = undefined;
  // The API server reloads it (file events, else within a minute): an install agent's read is RBAC's again.
  await waitFor(
    'the API server to reload its own authorization configuration',
    async () => ((await agentReads(`install-probe-${runId}`)).code === 0 ? true : undefined),
    120_000,
    1_000,
  );
}

async function ready(p: PodProcess): Promise<void> {
  await waitFor(
    `${p.name} to be ready`,
    async () => {
      if (!p.running()) throw new Error(`${p.name} exited; see ${p.log}:\n${readFileSync(p.log, 'utf8').slice(-3000)}`);
      return (await direct(p.port, undefined, '/readyz').catch(() => ({ status: 0 }))).status === 200 ? true : undefined;
    },
    90_000,
    250,
  );
}

/** The URL override: the configuration's webhooks call `p` (what the Service's endpoints would route to). */
async function pointAt(c: (typeof configs)[number], p: PodProcess): Promise<void> {
  const o = await getObject<{ webhooks: { clientConfig: { service?: { path: string }; url?: string } }[] }>([c.kind, c.name]);
  const ops = (o?.webhooks ?? []).flatMap((w, i) => {
    const pathname = w.clientConfig.service?.path ?? new URL(w.clientConfig.url ?? 'https://x/').pathname;
    return [
      ...(w.clientConfig.service ? [{ op: 'remove', path: `/webhooks/${i}/clientConfig/service` }] : []),
      { op: 'add', path: `/webhooks/${i}/clientConfig/url`, value: `https://127.0.0.1:${p.port}${pathname}` },
    ];
  });
  await admin(['patch', c.kind, c.name, '--type=json', '-p', JSON.stringify(ops)], undefined, { note: `URL override → ${p.name} (no Service DNS here)` });
}

function agentReads(secret: string) {
  return run(paths.kubectl, ['--kubeconfig', paths.kubeconfig, '--context', 'admin', ...asAgent, 'get', 'secret', secret, '-n', ns.production, '-o', 'name']);
}

beforeAll(async () => {
  transcriptSection(`Install: helm install ${release}, two gateway replicas run as its Deployment says`);
  if (!existsSync(paths.helm)) throw new Error(`${paths.helm} is missing: run make helm`);
  await setAsideSuiteApprovals();
  // RBAC lets this installation's agents do anything: belay, not RBAC, must stop them.
  await admin(['create', 'clusterrolebinding', `install-agents-${runId}`, '--clusterrole=cluster-admin', `--group=${agentsGroup}`]);
  const valuesFile = path.join(paths.out, `install-${runId}.values.yaml`);
  writeFileSync(valuesFile, stringify(values));
  const r = await helm(['install', release, paths.chart, '-n', namespace, '--create-namespace', '-f', valuesFile]);
  if (r.code !== 0) throw new Error(`helm install failed:\n${r.stderr}`);

  const dep = JSON.parse(await admin(['get', 'deployment', release, '-n', namespace, '-o', 'json'])) as DeploymentLike;
  for (let i = 0; i < 2; i++) replicas.push(await startPodProcess(dep, `replica-${i}`, base + 1 + i));
  started.push(...replicas);
  const t = Date.now();
  for (const p of replicas) await ready(p);
  transcribe({
    command: `(2 replicas ready in ${((Date.now() - t) / 1000).toFixed(1)}s: ${replicas.map((p) => `https://127.0.0.1:${p.port}`).join(', ')})`,
    code: 0,
    stdout: '',
    stderr: '',
  });

  // The one deviation from the chart: each webhook calls a replica here, not the Service.
  for (const c of configs) await pointAt(c, replicas[c.replica]!);
  // Requests flow from now to the end of the rotation test.
  traffic.startedAt = Date.now();
  traffic.loops.push(apiServerLoop(), directLoop(0), directLoop(1));
}, 300_000);

afterAll(async () => {
  await stopTraffic();
  for (const p of started) await p.stop();
  await restoreAuthorization().catch((err) => process.stderr.write(`install e2e: ${err}\n`));
  await run(paths.helm, ['--kubeconfig', paths.kubeconfig, '--kube-context', 'admin', 'uninstall', release, '-n', namespace, '--no-hooks']);
  for (const c of configs) await kubectl('admin', ['delete', c.kind, c.name, '--ignore-not-found'], { quiet: true });
  await restoreSuiteApprovals();
  await kubectl('admin', ['delete', 'clusterrolebinding', `install-agents-${runId}`, '--ignore-not-found'], { quiet: true });
  await kubectl('admin', ['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false'], { quiet: true });
}, 240_000);

describe('belay installed with helm', () => {
  it('runs in cluster mode as its service account, in TLS mode self, with the chart’s overlay; one replica leads the rotation', async () => {
    const ready = await Promise.all(replicas.map((p) => direct(p.port, undefined, '/readyz')));
    for (const r of ready) {
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        mode: 'cluster',
        cluster: `in-cluster service account (https://127.0.0.1:${ports.apiserver})`,
        identity: `system:serviceaccount:${namespace}:${release}`,
        store: `ApprovalRequests at https://127.0.0.1:${ports.apiserver}`,
        tls: { mode: 'self', source: `Secret ${namespace}/${release}-tls` },
        notReady: [],
      });
      expect(r.body.revision).toBe(`${r.body.bundleRevision}+config.${String(r.body.configDigest).slice(0, 12)}`);
    }
    expect(ready.filter((r) => r.body.tls.leader)).toHaveLength(1);
    transcribe({ command: `curl https://127.0.0.1:${replicas[0]!.port}/readyz`, code: 0, stdout: JSON.stringify(ready[0]!.body, null, 2), stderr: '' });
    // The CA reached every webhook configuration and the authorization ConfigMap.
    const bundle = await publishedBundle();
    expect(bundle).toMatch(/BEGIN CERTIFICATE/);
    const cm = await getObject<{ data: Record<string, string> }>(['configmap', `${release}-authorization`], namespace);
    expect(cm?.data['ca.crt']).toBe(bundle);
    const out = await admin(['get', 'secret', `${release}-tls`, '-n', namespace, '-o', 'jsonpath={.data}']);
    expect(Object.keys(JSON.parse(out)).sort()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
  });

  it('stays not ready as a service account without the RBAC the chart grants, naming what is missing', async () => {
    await admin(['create', 'serviceaccount', 'no-rbac', '-n', namespace]);
    const dep = JSON.parse(await admin(['get', 'deployment', release, '-n', namespace, '-o', 'json'], undefined, { quiet: true })) as DeploymentLike;
    dep.spec.template.spec.serviceAccountName = 'no-rbac';
    const p = await startPodProcess(dep, 'no-rbac', base + 4);
    started.push(p);
    try {
      const r = await waitFor(
        'its /readyz',
        async () => {
          if (!p.running()) throw new Error(`it exited; see ${p.log}`);
          const x = await direct(p.port, undefined, '/readyz').catch(() => undefined);
          return x?.status ? x : undefined;
        },
        60_000,
        250,
      );
      transcribe({
        command: `curl https://127.0.0.1:${p.port}/readyz   # as service account no-rbac`,
        code: 0,
        stdout: JSON.stringify(r.body.notReady, null, 2),
        stderr: '',
      });
      expect(r.status).toBe(503);
      expect(r.body.identity).toBe(`system:serviceaccount:${namespace}:no-rbac`);
      const reasons = Object.fromEntries((r.body.notReady as { check: string; reason: string }[]).map((n) => [n.check, n.reason]));
      expect(reasons.rbac).toMatch(/^missing RBAC: get, list, watch namespaces \(cluster-wide\): namespace labels are policy input; /);
      expect(reasons.rbac).toContain(
        'get, list, watch, create, update, delete approvalrequests.belay.dev (cluster-wide): deferred requests become ApprovalRequests',
      );
      expect(reasons.rbac).toContain(`get, list, watch, update secrets ${release}-tls in namespace ${namespace}: the TLS Secret`);
      expect(reasons.rbac).toContain(`— check with kubectl auth can-i get namespaces -A --as system:serviceaccount:${namespace}:no-rbac`);
      expect(reasons.tls).toContain(`Secret ${namespace}/${release}-tls`);
      expect(reasons.identity).toContain(`--gateway-user system:serviceaccount:${namespace}:${release} is not who the gateway is`);
    } finally {
      await p.stop();
    }
  });

  it("denies an agent's privileged pod", async () => {
    const r = await kubectl('admin', [...asAgent, 'apply', '-f', '-'], {
      stdin: pod({ name: `install-priv-${runId}`, namespace: ns.dev, securityContext: { privileged: true } }),
      note: 'an agent of this installation creates a privileged pod',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(BELAY_DENIED);
    expect(r.stderr).toMatch(/pss\.baseline\.privileged/);
    expect(await getObject(['pod', `install-priv-${runId}`], ns.dev)).toBeUndefined();
  });

  it('defers an agent’s delete in production to an ApprovalRequest in the cluster, none on disk; belay approvals list in the pod shows it', async () => {
    const name = `install-billing-${runId}`;
    await admin(['apply', '-f', '-'], deployment({ name, namespace: ns.production }));
    const r = await kubectl('admin', [...asAgent, 'delete', 'deployment', name, '-n', ns.production], { note: 'an agent deletes a Deployment in production' });
    expectDeferred(r);
    expect(await getObject(['deployment', name], ns.production)).toBeDefined();
    const list = JSON.parse(await admin(['get', 'approvalrequests.belay.dev', '-n', ns.production, '-o', 'json'])) as {
      items: { metadata: { name: string }; spec: { requester: { user: string }; request: { name: string } } }[];
    };
    const mine = list.items.filter((a) => a.spec.request.name === name);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.spec.requester.user).toBe('install-bot');
    expect(r.stderr).toContain(mine[0]!.metadata.name);
    await admin(['get', 'approvalrequests.belay.dev', '-n', ns.production]);
    // Nothing on the pods' disks: no local store was made.
    for (const p of replicas) expect(() => readFileSync(path.join(p.root, 'tmp', 'belay', 'state', 'approvals'))).toThrow(/ENOENT/);

    const cli = await execInPod(replicas[0]!, ['approvals', 'list', '-A']);
    transcribe(cli);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(mine[0]!.metadata.name);
  });

  it('gates an agent’s Secret read once the API server runs the authorization configuration the chart rendered', async () => {
    const secret = `install-db-${runId}`;
    await admin(['create', 'secret', 'generic', secret, '-n', ns.production, '--from-literal=password=hunter2']);
    await admin(['create', 'secret', 'generic', `install-probe-${runId}`, '-n', ns.production, '--from-literal=x=y']);
    // What the install notes tell an operator to copy to every control-plane host.
    const cm = await getObject<{ data: Record<string, string> }>(['configmap', `${release}-authorization`], namespace);
    const dir = path.join(paths.out, 'install', 'control-plane');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'ca.crt'), cm!.data['ca.crt']!);
    const kubeconfig = parse(cm!.data['authorization-webhook.kubeconfig']!);
    kubeconfig.clusters[0].cluster.server = `https://127.0.0.1:${replicas[0]!.port}/authorize`; // the URL override again
    kubeconfig.clusters[0].cluster['certificate-authority'] = path.join(dir, 'ca.crt');
    writeFileSync(path.join(dir, 'authorization-webhook.kubeconfig'), stringify(kubeconfig));
    const config = cm!.data['authorization-config.yaml']!.replace(
      /kubeConfigFile: .*/,
      `kubeConfigFile: ${path.join(dir, 'authorization-webhook.kubeconfig')}`,
    );
    authzOriginal = readFileSync(authzConfig, 'utf8');
    writeFileSync(authzConfig, config);
    transcribe({ command: `(the chart's authorization-config.yaml and webhook kubeconfig installed as ${authzConfig})`, code: 0, stdout: '', stderr: '' });

    await waitFor(
      'the API server to run the chart’s authorization configuration',
      async () => (/belay/.test((await agentReads(`install-probe-${runId}`)).stderr) ? true : undefined),
      120_000,
      1_000,
    );
    const r = await kubectl('admin', [...asAgent, 'get', 'secret', secret, '-n', ns.production, '-o', 'name'], { note: 'an agent reads a Secret' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Forbidden/);
    expect(r.stderr).toMatch(/\[rule secrets\.read\]/);
    const human = await kubectl('bob', ['get', 'secret', secret, '-n', ns.production, '-o', 'name']);
    expect(human.stderr).not.toMatch(/belay/);
    await restoreAuthorization();
  }, 300_000);

  it('replaces a replica as a rolling update does (new pod ready, old one drained and stopped), failing no request', async () => {
    const dep = JSON.parse(await admin(['get', 'deployment', release, '-n', namespace, '-o', 'json'], undefined, { quiet: true })) as DeploymentLike;
    const next = await startPodProcess(dep, 'replica-2', base + 3);
    started.push(next);
    await ready(next);
    const old = replicas[1]!;
    // The endpoints move to the new pod; the old one keeps answering through its preStop pause.
    for (const c of configs.filter((c) => c.replica === 1)) await pointAt(c, next);
    replicas[1] = next;
    await new Promise((r) => setTimeout(r, 5_000));
    await old.stop();
    expect(old.exit()).toBe(0);
    expect(traffic.viaApiServer.failed.slice(0, 5).join('\n')).toBe('');
    expect(traffic.direct.failed.slice(0, 5).join('\n')).toBe('');
    // One of the two left leads the certificate rotation (the stopped one handed its Lease back if it held it).
    await waitFor(
      'one replica to lead the rotation',
      async () => {
        const leaders = (await Promise.all(replicas.map((p) => direct(p.port, undefined, '/readyz')))).filter((r) => r.body.tls.leader);
        return leaders.length === 1 ? true : undefined;
      },
      30_000,
      500,
    );
  }, 180_000);

  it('rotates the serving certificate and the CA while requests flow, failing none', async () => {
    await waitFor(
      'two serving-certificate rotations and a CA rotation seen by clients',
      async () => (traffic.direct.serials.size >= 3 && traffic.direct.issuers.size >= 2 ? true : undefined),
      180_000,
      1_000,
    );
    // A little more traffic on the new CA, then stop.
    await new Promise((r) => setTimeout(r, 3_000));
    await stopTraffic();
    const summary = {
      // From the first request (right after the webhooks pointed at the replicas) to the last.
      secondsOfTraffic: Math.round((Date.now() - traffic.startedAt) / 1000),
      throughApiServer: { ok: traffic.viaApiServer.ok, failed: traffic.viaApiServer.failed.length, throttledAndRetried: traffic.viaApiServer.throttled },
      directToReplicas: {
        ok: traffic.direct.ok,
        failed: traffic.direct.failed.length,
        servingCertificates: traffic.direct.serials.size,
        CAs: [...traffic.direct.issuers],
      },
    };
    transcribe({ command: '(requests during rotation)', code: 0, stdout: JSON.stringify(summary, null, 2), stderr: '' });
    writeFileSync(path.join(paths.out, 'install-rotation.json'), `${JSON.stringify(summary, null, 2)}\n`);
    expect(traffic.viaApiServer.failed.slice(0, 5).join('\n')).toBe('');
    expect(traffic.direct.failed.slice(0, 5).join('\n')).toBe('');
    expect(traffic.viaApiServer.ok).toBeGreaterThan(50);
    expect(traffic.direct.ok).toBeGreaterThan(50);

    // Both replicas serve the Secret's certificate; the leader counted its rotations.
    const secret = JSON.parse(await admin(['get', 'secret', `${release}-tls`, '-n', namespace, '-o', 'json'], undefined, { quiet: true }));
    const stored = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64')).serialNumber;
    await waitFor(
      'both replicas to serve the stored certificate',
      async () => {
        const served = await Promise.all(replicas.map((p) => direct(p.port, undefined, '/healthz')));
        return served.every((s) => s.serial === stored) ? true : undefined;
      },
      30_000,
      500,
    );
    // The leaders (the Lease may have moved with the replaced replica) logged every rotation; the one leading now counts its own.
    const logged = started.flatMap((p) => readFileSync(p.log, 'utf8').split('\n'));
    expect(logged.filter((l) => l.includes('"msg":"issued a new serving certificate"')).length).toBeGreaterThanOrEqual(3);
    expect(logged.filter((l) => l.includes('"why":"the CA is due for renewal"')).length).toBeGreaterThanOrEqual(1);
    const metrics = await Promise.all(replicas.map((p) => direct(p.port, undefined, '/metrics')));
    expect(metrics.some((m) => /belay_tls_rotations_total\{what="certificate"\} [1-9]/.test(m.body))).toBe(true);
  }, 300_000);

  it('uninstalls with helm: no webhook configuration is left, and the running gateways bring none back', async () => {
    const r = await helm(['uninstall', release, '-n', namespace, '--wait', '--timeout', '60s']);
    expect(r.code, r.stderr).toBe(0);
    const list = () =>
      admin(['get', 'mutatingwebhookconfigurations,validatingwebhookconfigurations', '-l', `app.kubernetes.io/instance=${release}`, '-o', 'name']);
    expect((await list()).trim()).toBe('');
    for (const c of configs) expect(await getObject([c.kind, c.name])).toBeUndefined();
    // The gateways are still up (their pods would be terminating): a few seconds later, still nothing.
    expect(replicas.every((p) => p.running())).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect((await list()).trim()).toBe('');
    expect(await getObject(['secret', `${release}-tls`], namespace)).toBeUndefined();
    // This installation's agents are no longer sent anywhere.
    const after = await kubectl('admin', [...asAgent, 'create', 'configmap', `install-after-${runId}`, '-n', ns.dev, '--from-literal=a=b']);
    expect(after.code, after.stderr).toBe(0);
  });
});
