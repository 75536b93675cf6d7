// The gateway's decision log end to end: admission requests over HTTPS are
// written as JSON lines with secrets redacted, shipped (the same redacted
// records) to a decision-log service in OPA's format, and `belay replay`
// reads that file to show what a candidate bundle would change.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { noApprovals } from '../src/approvals/gate.js';
import { buildProgram } from '../src/cli/program.js';
import { parseDecisionLog } from '../src/observe/decision-log.js';
import { silentLogger } from '../src/observe/log.js';
import { LogSink } from '../src/testkit/log-sink.js';
import { buildBundle, writeTree } from '../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from './gateway.js';

const AGENTS = JSON.stringify({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'] } } } });
const policy = (extra: string) => `package belay.admission
import rego.v1
labels := object.get(input.object.metadata, "labels", {})
reasons contains {"rule": "env.prod", "message": "no writes to prod", "severity": "high"} if labels.env == "prod"
${extra}
verdict := "deny" if count(reasons) > 0
else := "allow"
decision := {"decision": verdict, "reasons": [r | some r in reasons], "redact": ["/data/apiKey"]}
`;

let dir: string;
let gateway: Gateway;
let logFile: string;
let sink: LogSink;

function send(uid: string, object: Record<string, unknown>): Promise<any> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: String(object.kind) },
      resource: { group: '', version: 'v1', resource: `${String(object.kind).toLowerCase()}s` },
      name: (object.metadata as { name: string }).name,
      namespace: 'team-a',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:agents:bot', groups: ['system:serviceaccounts'] },
      object,
    },
  });
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL('/validate', gateway.url),
      { method: 'POST', ca: readFileSync(gateway.caFile), headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString())));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'belay-dlog-gw-'));
  writeFileSync(path.join(dir, 'v1.tar.gz'), buildBundle(writeTree({ 'p.rego': policy(''), 'data.json': AGENTS }), { revision: 'v1' }));
  writeFileSync(
    path.join(dir, 'v2.tar.gz'),
    buildBundle(
      writeTree({
        'p.rego': policy('reasons contains {"rule": "env.staging", "message": "staging is frozen", "severity": "high"} if labels.env == "staging"'),
        'data.json': AGENTS,
      }),
      { revision: 'v2' },
    ),
  );
  logFile = path.join(dir, 'decisions.log');
  sink = await new LogSink().listen();
  gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: path.join(dir, 'v1.tar.gz') },
    tlsDir: path.join(dir, 'tls'),
    log: silentLogger,
    approvalGate: noApprovals,
    evaluation: { mode: 'in-process' },
    decisionLog: { destination: logFile },
    decisionShipping: { url: sink.url, spoolDir: path.join(dir, 'spool'), labels: { cluster: 'unit' } },
  });
  await send('u-secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'czNjcjN0' }, stringData: { token: 'hunter2' } });
  await send('u-config', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cfg', labels: { env: 'staging' } },
    data: { apiKey: 'AKIA-not-for-logs', mode: 'fast' },
  });
  await send('u-prod', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p', labels: { env: 'prod' } }, data: {} });
  await gateway.close();
});

afterAll(async () => {
  await gateway?.close();
  await sink?.close();
});

describe('decision log from the gateway', () => {
  it('writes one redacted JSON line per decision, with the revision', () => {
    const text = readFileSync(logFile, 'utf8');
    for (const secret of ['czNjcjN0', 'hunter2', 'AKIA-not-for-logs']) expect(text).not.toContain(secret);
    const { entries } = parseDecisionLog(text);
    expect(entries.map((e) => [e.id, e.verdict, e.revision])).toEqual([
      ['u-secret', 'allow', 'v1'],
      ['u-config', 'allow', 'v1'],
      ['u-prod', 'deny', 'v1'],
    ]);
    expect(entries[1]!.input!.object).toMatchObject({ data: { apiKey: '[REDACTED]', mode: 'fast' } });
    expect(entries[2]).toMatchObject({
      face: 'admission',
      rules: ['env.prod'],
      reasons: [{ rule: 'env.prod' }],
      request: { operation: 'CREATE', kind: 'ConfigMap', namespace: 'team-a', name: 'p' },
    });
    expect(entries[2]!.inputDigest).toMatch(/^sha256:/);
    expect(entries[2]!.latencyMs).toBeGreaterThan(0);
  });

  it('shipped the same redacted records to the decision-log service before it closed, in OPA format', () => {
    const wire = sink.requests.map((r) => r.raw).join('');
    for (const secret of ['czNjcjN0', 'hunter2', 'AKIA-not-for-logs']) expect(wire).not.toContain(secret);
    expect(sink.events.map((e) => [e.belay.id, e.belay.verdict, e.bundles.belay?.revision, e.path, e.labels.cluster])).toEqual([
      ['u-secret', 'allow', 'v1', 'belay/admission/decision', 'unit'],
      ['u-config', 'allow', 'v1', 'belay/admission/decision', 'unit'],
      ['u-prod', 'deny', 'v1', 'belay/admission/decision', 'unit'],
    ]);
    const logged = parseDecisionLog(readFileSync(logFile, 'utf8')).entries;
    expect(sink.events.map((e) => e.input)).toEqual(logged.map((e) => e.input));
  });

  it('belay replay shows what the candidate would change, as Markdown', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    try {
      process.exitCode = undefined;
      await buildProgram().parseAsync([
        'node',
        'belay',
        'replay',
        '--bundle',
        path.join(dir, 'v2.tar.gz'),
        '--format',
        'markdown',
        '--fail-on-change',
        logFile,
      ]);
    } finally {
      vi.restoreAllMocks();
    }
    expect(process.exitCode).toBe(1);
    process.exitCode = undefined;
    const md = out.join('');
    expect(md).toMatch(/^### belay replay: 1 of 3 recorded decisions would change/);
    expect(md).toContain('`CREATE ConfigMap team-a/cfg`');
    expect(md).toContain('| allow | deny [env.staging] | allow→deny; rules +env.staging |');
  });
});
