// The gateway as an installation runs it: the mode chosen explicitly (never a
// silent local fallback), the configuration overlay from a ConfigMap volume,
// the console switched off, a TLS Secret volume swapped under traffic, and
// missing RBAC keeping it not ready. The real API server, helm and TLS mode
// self are in e2e/install.e2e.test.ts.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/observe/log.js';
import { deploymentRequest, reviewOf } from '../src/testkit/admission.js';
import { startFakeKube } from '../src/testkit/fake-kube.js';
import { buildBundle, TEST_POLICY_DIR } from '../src/testkit/opa-bundle.js';
import { writeVolume } from '../src/testkit/volume.js';
import { issueServingCertificate, newCertificateAuthority } from '../src/tls/pki.js';
import { type Gateway, type GatewayOptions, startGateway } from './gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;
let bundlePath: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-install-'));
  bundlePath = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundlePath, buildBundle(TEST_POLICY_DIR, { revision: 'install-rev' }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Reply {
  status: number;
  body: any;
  serial: string;
}

/** One request on a connection of its own (so each is a fresh TLS handshake). */
function request(gateway: { url: string }, ca: string | Buffer, pathname: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      new URL(pathname, gateway.url),
      {
        method: payload ? 'POST' : 'GET',
        ca,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().serialNumber;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text, serial });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A local gateway on a free port with the test bundle, its TLS and state under `name`, and `options` on top. */
function localGateway(name: string, options: Partial<GatewayOptions> = {}): Promise<Gateway> {
  return startGateway({
    port: 0,
    bundle: { file: bundlePath },
    tlsDir: path.join(dir, `${name}-tls`),
    approvals: { stateDir: path.join(dir, `${name}-state`) },
    log: silentLogger,
    ...options,
  });
}

/** A Deployment created by `username` in `groups`. */
function reviewBy(username: string, groups: string[]) {
  const r = reviewOf(deploymentRequest({}));
  return { ...r, request: { ...r.request, userInfo: { username, groups } } };
}

describe('belay serve outside a pod', () => {
  const main = path.join(root, 'dist', 'webhook', 'main.js');
  const serve = (env: Record<string, string>) =>
    spawnSync(process.execPath, [main, 'serve', '--listen', '127.0.0.1:0', '--bundle', bundlePath], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
      timeout: 30_000,
    });

  it('refuses to start without --local or a cluster, saying what to pass', () => {
    const r = serve({});
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/belay serve needs to know where approvals and identities live: run it in a pod .* --kubeconfig FILE .* --local/);
  });

  it('refuses to fall back to local mode in a pod without a service-account token', () => {
    const r = serve({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443', BELAY_IN_CLUSTER_PATH_PREFIX: path.join(dir, 'no-sa') });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no service-account token at .*no-sa\/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token/);
  });
});

describe('the configuration overlay (--config-overlay, a ConfigMap volume)', () => {
  let gateway: Gateway;
  let volume: string;
  let ca: Buffer;

  beforeAll(async () => {
    volume = path.join(dir, 'overlay-volume');
    writeVolume(volume, { 'overlay.json': JSON.stringify({ agents: { groups: ['team:bots'] } }) });
    gateway = await localGateway('overlay', { configOverlay: path.join(volume, 'overlay.json') });
    ca = readFileSync(gateway.caFile);
  });
  afterAll(() => gateway?.close());

  it('is laid over the bundle: who is an agent comes from it, and its digest is stamped beside the revision', async () => {
    const ready = await request(gateway, ca, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ bundleRevision: 'install-rev', configOverlay: { file: path.join(volume, 'overlay.json') } });
    const digest: string = ready.body.configDigest;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(ready.body.revision).toBe(`install-rev+config.${digest.slice(0, 12)}`);
    // An agent only by the overlay is judged; the bundle's own agents group no longer is.
    const bot = await request(gateway, ca, '/validate', reviewBy('ci-bot', ['team:bots']));
    expect(bot.body.response.auditAnnotations).toMatchObject({ revision: ready.body.revision });
    expect(bot.body.response.auditAnnotations.decision).toBeDefined();
    const formerAgent = await request(gateway, ca, '/validate', reviewBy('someone', ['belay:agents']));
    expect(formerAgent.body.response.allowed).toBe(true);
    expect(formerAgent.body.response.auditAnnotations?.decision).toBeUndefined(); // skipped: not an agent any more
    const metrics = await request(gateway, ca, '/metrics');
    expect(metrics.body).toContain(`belay_config_overlay_info{digest="${digest.slice(0, 12)}"`);
  });

  it('is read again when the ConfigMap changes, and a bad one keeps the last good overlay and the gateway ready', async () => {
    const before = (await request(gateway, ca, '/readyz')).body.configDigest as string;
    writeVolume(volume, { 'overlay.json': JSON.stringify({ agents: { groups: ['team:other'] } }) });
    const changed = await until('the new overlay', async () => {
      const r = await request(gateway, ca, '/readyz');
      return r.body.configDigest !== before ? r.body : undefined;
    });
    const other = await request(gateway, ca, '/validate', reviewBy('x', ['team:other']));
    expect(other.body.response.auditAnnotations.revision).toBe(changed.revision);

    writeVolume(volume, { 'overlay.json': '{"agents": ' });
    const bad = await until('the refusal', async () => {
      const r = await request(gateway, ca, '/readyz');
      return r.body.configOverlay.error ? r : undefined;
    });
    expect(bad.status).toBe(200);
    expect(bad.body.configOverlay.error).toMatch(/is not JSON/);
    expect(bad.body.configDigest).toBe(changed.configDigest);
    const stillOther = await request(gateway, ca, '/validate', reviewBy('x', ['team:other']));
    expect(stillOther.body.response.auditAnnotations.decision).toBeDefined();
  });

  it('keeps a gateway whose overlay is unusable at start not ready, and serves once it is fixed', async () => {
    const broken = path.join(dir, 'broken-volume');
    writeVolume(broken, { 'overlay.json': '[1, 2]' });
    const g = await localGateway('broken', { tlsDir: path.join(dir, 'overlay-tls'), configOverlay: path.join(broken, 'overlay.json') });
    try {
      const r = await request(g, ca, '/readyz');
      expect(r.status).toBe(503);
      expect(r.body.notReady).toEqual([{ check: 'configOverlay', reason: expect.stringMatching(/must be a JSON object/) }]);
      expect(r.body.revision).toBeNull();
      // No bundle is active: agents (by the pre-bundle selector, --agents-file) are refused, everyone else passes untouched.
      const agent = await request(g, ca, '/validate', reviewBy('system:serviceaccount:agents:bot', ['system:serviceaccounts']));
      expect(agent.body.response.allowed).toBe(false);
      const human = await request(g, ca, '/validate', reviewBy('robot', []));
      expect(human.body.response.allowed).toBe(true);
      writeVolume(broken, { 'overlay.json': '{}' });
      await until('ready', async () => (await request(g, ca, '/readyz')).status === 200);
    } finally {
      await g.close();
    }
  });
});

describe('--no-console', () => {
  it('leaves the approvals console out', async () => {
    const g = await localGateway('console', { console: { enabled: false } });
    try {
      const ca = readFileSync(g.caFile);
      expect((await request(g, ca, '/console/')).status).toBe(404);
      expect((await request(g, ca, '/readyz')).status).toBe(200);
    } finally {
      await g.close();
    }
  });
});

describe('--tls-dir as a Secret volume (cert-manager, an existing Secret)', () => {
  it('swaps in each new pair under traffic without failing a request', async () => {
    const volume = path.join(dir, 'tls-volume');
    const ca = newCertificateAuthority({ commonName: 'test CA', validityMs: 3_600_000 });
    const pair = () => issueServingCertificate({ ca, hosts: ['127.0.0.1'], validityMs: 3_600_000 });
    const first = pair();
    writeVolume(volume, { 'tls.crt': first.cert, 'tls.key': first.key, 'ca.crt': ca.cert });
    const g = await localGateway('tls', { tlsDir: volume });
    try {
      let failed = 0;
      let ok = 0;
      const serials = new Set<string>();
      let stop = false;
      const traffic = (async () => {
        while (!stop) {
          try {
            const r = await request(g, ca.cert, '/validate', reviewBy('robot', []));
            if (r.status === 200) {
              ok++;
              serials.add(r.serial);
            } else failed++;
          } catch {
            failed++;
          }
        }
      })();
      for (let i = 0; i < 3; i++) {
        await new Promise((r) => setTimeout(r, 300));
        const next = pair();
        writeVolume(volume, { 'tls.crt': next.cert, 'tls.key': next.key, 'ca.crt': ca.cert });
        const want = new (await import('node:crypto')).X509Certificate(next.cert).serialNumber;
        await until('the new certificate served', async () => (await request(g, ca.cert, '/healthz')).serial === want);
      }
      stop = true;
      await traffic;
      expect(failed).toBe(0);
      expect(ok).toBeGreaterThan(10);
      expect(serials.size).toBeGreaterThanOrEqual(3);
      const ready = await request(g, ca.cert, '/readyz');
      expect(ready.body.tls).toMatchObject({ mode: 'files', source: `files in ${volume}` });
    } finally {
      await g.close();
    }
  });
});

describe('a gateway without the RBAC it needs', () => {
  it('says which permission is missing and stays not ready, naming its mode, store and identity', async () => {
    const kube = await startFakeKube({
      username: 'system:serviceaccount:belay:belay',
      authorize: (a) => !(a.resource === 'tokenreviews' && a.verb === 'create'),
    });
    const kubeconfig = path.join(dir, 'fake.kubeconfig');
    writeFileSync(kubeconfig, kube.kubeConfig().exportConfig());
    mkdirSync(path.join(dir, 'rbac-tls'), { recursive: true });
    const g = await localGateway('rbac', { kubeconfig });
    try {
      const r = await request(g, readFileSync(g.caFile), '/readyz');
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ mode: 'cluster', identity: 'system:serviceaccount:belay:belay', store: `ApprovalRequests at ${kube.url}` });
      expect(r.body.notReady).toEqual([
        {
          check: 'rbac',
          reason:
            'missing RBAC: create tokenreviews.authentication.k8s.io (cluster-wide): agent API and console tokens are checked' +
            ' — check with kubectl auth can-i create tokenreviews.authentication.k8s.io -A --as system:serviceaccount:belay:belay',
        },
      ]);
    } finally {
      await g.close();
      await kube.close();
    }
  });
});
