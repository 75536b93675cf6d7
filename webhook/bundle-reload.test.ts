// Hot reload under continuous requests: a gateway serving a watched bundle
// directory while new revisions are published; no request is dropped, and no
// request mixes two revisions (each revision's fix only satisfies itself, so
// a mutate that evaluated under one revision and re-checked under another
// would be refused).

import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noApprovals } from '../src/approvals/gate.js';
import { silentLogger } from '../src/observe/log.js';
import { buildBundle, writeTree } from '../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from './gateway.js';

const policy = (rev: string) => `package belay.admission
import rego.v1

labels := object.get(input.object.metadata, "labels", {})

reasons contains {"rule": "rev.${rev}.deny", "message": "revision ${rev} denies this", "severity": "high"} if labels.deny == "yes"
reasons contains {"rule": "rev.${rev}.fix", "message": "revision ${rev} wants its label", "severity": "low"} if {
	not labels.deny
	labels.rev != "${rev}"
}
reasons contains {"rule": "rev.${rev}.fix", "message": "revision ${rev} wants its label", "severity": "low"} if {
	not labels.deny
	not labels.rev
}

fixes contains {"op": "add", "path": "/metadata/labels/rev", "value": "${rev}"} if {
	some r in reasons
	r.rule == "rev.${rev}.fix"
}

verdict := "deny" if labels.deny == "yes"
else := "allow"

decision := {
	"decision": verdict,
	"reasons": [r | some r in reasons],
	"fixes": [f | some f in fixes],
}
`;

const AGENT = { username: 'system:serviceaccount:agents:bot', groups: ['system:serviceaccounts'] };
let gateway: Gateway;
let ca: Buffer;
let dir: string;
const bundles: Record<string, Buffer> = {};
const agent = new https.Agent({ keepAlive: true, maxSockets: 8 });

function review(uid: string, labels: Record<string, string>) {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      name: 'c',
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: AGENT,
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'team-a', labels }, data: {} },
    },
  });
}

function post(pathname: string, body: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(pathname, gateway.url), { method: 'POST', ca, agent, headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function publish(bytes: Buffer): void {
  const file = path.join(dir, 'bundle.tar.gz');
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
}

beforeAll(async () => {
  const agents = JSON.stringify({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } });
  for (const rev of ['a', 'b']) bundles[rev] = buildBundle(writeTree({ 'p.rego': policy(rev), 'data.json': agents }), { revision: rev });
  dir = mkdtempSync(path.join(tmpdir(), 'belay-reload-'));
  publish(bundles.a!);
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { dir, watch: { debounceMs: 10, pollMs: 100 } },
    tlsDir: path.join(dir, '..', `${path.basename(dir)}-tls`),
    log: silentLogger,
    approvalGate: noApprovals,
    evaluation: { mode: 'in-process' },
  });
  ca = readFileSync(gateway.caFile);
});

afterAll(async () => {
  agent.destroy();
  await gateway?.close();
});

describe('hot reload under continuous requests', () => {
  it('drops no request and never mixes revisions within one', async () => {
    const seen = { a: 0, b: 0 };
    const problems: string[] = [];
    let sent = 0;
    let running = true;

    async function client(n: number): Promise<void> {
      let i = 0;
      while (running) {
        const uid = `c${n}-${i++}`;
        const deny = i % 3 === 0;
        sent++;
        const res = await post(deny ? '/validate' : '/mutate', review(uid, deny ? { deny: 'yes' } : {}));
        const r = res.json.response;
        const rev = r?.auditAnnotations?.revision as 'a' | 'b' | undefined;
        if (res.status !== 200 || r?.uid !== uid || (rev !== 'a' && rev !== 'b')) {
          problems.push(`${uid}: HTTP ${res.status} ${JSON.stringify(res.json)}`);
          continue;
        }
        seen[rev]++;
        if (deny) {
          if (r.allowed || r.status?.message !== `revision ${rev} denies this [rule rev.${rev}.deny]`)
            problems.push(`${uid}: deny under ${rev}: ${JSON.stringify(r)}`);
        } else {
          const patch = r.patch ? JSON.parse(Buffer.from(r.patch, 'base64').toString()) : null;
          if (!r.allowed || JSON.stringify(patch) !== JSON.stringify([{ op: 'add', path: '/metadata/labels/rev', value: rev }])) {
            problems.push(`${uid}: fix under ${rev}: ${JSON.stringify(r)}`);
          }
        }
      }
    }

    const clients = [0, 1, 2, 3].map(client);
    const revisions: string[] = [];
    for (let swap = 0; swap < 8; swap++) {
      const next = swap % 2 === 0 ? 'b' : 'a';
      publish(bundles[next]!);
      const until = Date.now() + 5000;
      while (gateway.store.current()?.revision !== next && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
      revisions.push(gateway.store.current()!.revision);
      await new Promise((r) => setTimeout(r, 60));
    }
    running = false;
    await Promise.all(clients);

    expect(revisions).toEqual(['b', 'a', 'b', 'a', 'b', 'a', 'b', 'a']);
    expect(problems).toEqual([]);
    expect(seen.a + seen.b).toBe(sent);
    expect(seen.a).toBeGreaterThan(20);
    expect(seen.b).toBeGreaterThan(20);
    expect(gateway.store.lastFailure).toBeUndefined();
  }, 60_000);

  it('refuses a corrupt bundle: /readyz, the metrics and the old revision say so', async () => {
    const before = gateway.store.current()!.revision;
    publish(Buffer.from('garbage'));
    const until = Date.now() + 5000;
    while (!gateway.store.lastFailure && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    const ready = await new Promise<any>((resolve, reject) =>
      https
        .get(new URL('/readyz', gateway.url), { ca, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }));
        })
        .on('error', reject),
    );
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ ready: true, revision: before, lastFailure: { message: expect.stringMatching(/not a gzip file/) } });
    const metrics = await gateway.metrics.registry.metrics();
    expect(metrics).toMatch(/belay_bundle_last_activation_failed 1/);
    expect(metrics).toMatch(/belay_bundle_activations_total\{result="failed"\} 1/);
    const res = await post('/validate', review('after-garbage', { deny: 'yes' }));
    expect(res.json.response.auditAnnotations.revision).toBe(before);
  });

  it('starts unready on an empty watched directory, and is ready once a bundle arrives', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'belay-empty-'));
    const late = await startGateway({
      host: '127.0.0.1',
      port: 0,
      bundle: { dir: empty, watch: { debounceMs: 10, pollMs: 100 } },
      tlsDir: path.join(dir, '..', `${path.basename(dir)}-tls`),
      log: silentLogger,
      approvalGate: noApprovals,
      evaluation: { mode: 'in-process' },
    });
    try {
      const readyz = () =>
        new Promise<any>((resolve, reject) =>
          https
            .get(new URL('/readyz', late.url), { ca, agent }, (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString()) }));
            })
            .on('error', reject),
        );
      const before = await readyz();
      expect(before.status).toBe(503);
      expect(before.body.lastFailure.message).toMatch(/holds neither an unpacked bundle .* nor a bundle archive/);
      writeFileSync(path.join(empty, 'bundle.tar.gz'), bundles.b!);
      const until = Date.now() + 5000;
      while (!late.store.current() && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      const after = await readyz();
      expect(after).toMatchObject({ status: 200, body: { ready: true, revision: 'b', lastFailure: null } });
    } finally {
      await late.close();
    }
  });
});
