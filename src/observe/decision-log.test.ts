import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Decision, JsonObject, PolicyInput } from '../contract/index.js';
import { canonicalDigest } from '../redact/index.js';
import { DecisionLog, LOGGED_CONTENT_BYTES, parseDecisionLog, redactRecord } from './decision-log.js';
import type { DecisionRecord } from './decisions.js';

const TOKEN = 'sha256~Xk3v9QqLr0aZ8mN2pT5wY7uB1cD4eF6gH8jK0lM2nP4';

function input(over: Partial<PolicyInput> = {}): PolicyInput {
  return {
    face: 'admission',
    actor: {
      username: 'system:serviceaccount:agents:bot',
      groups: ['system:serviceaccounts'],
      extra: {},
      agent: true,
      serviceAccount: { namespace: 'agents', name: 'bot' },
    },
    action: { operation: 'UPDATE', verb: 'update', subresource: '', dryRun: false },
    resource: { group: '', version: 'v1', kind: 'Secret', resource: 'secrets', namespace: 'shop', name: 'db' },
    object: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'db',
        namespace: 'shop',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"czNjcjN0"}}', team: 'shop' },
      },
      data: { password: 'czNjcjN0', user: 'YWRtaW4=' },
      stringData: { token: 'plain-secret' },
    },
    oldObject: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: 'b2xk' } },
    options: null,
    dryRun: false,
    namespace: { name: 'shop' },
    context: {},
    tool: null,
    content: null,
    ...over,
  };
}

const decision = (over: Partial<Decision> = {}): Decision => ({
  decision: 'allow',
  reasons: [],
  fixes: [],
  redact: [],
  warnings: [],
  approval: null,
  mode: null,
  wouldBe: null,
  ...over,
});

function record(over: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    time: '2026-05-01T10:00:00.000Z',
    kind: 'decision',
    face: 'admission',
    id: 'uid-1',
    actor: { username: 'system:serviceaccount:agents:bot', groups: ['system:serviceaccounts'], agent: true },
    request: { operation: 'UPDATE', group: '', kind: 'Secret', namespace: 'shop', name: 'db', subresource: '', dryRun: false },
    verdict: 'fix',
    rules: ['secret.label'],
    decision: decision({
      reasons: [{ rule: 'secret.label', message: 'label it', severity: 'low' }],
      fixes: [
        { op: 'replace', path: '/data/password', value: 'bmV3' },
        { op: 'add', path: '/metadata/labels', value: { owner: 'shop' } },
      ],
    }),
    patch: [
      { op: 'replace', path: '/data/password', value: 'bmV3' },
      { op: 'add', path: '/metadata/labels', value: { owner: 'shop' } },
    ],
    approvalId: null,
    revision: 'rev-9',
    latencyMs: 1.23456,
    input: input(),
    ...over,
  };
}

describe('redactRecord', () => {
  it('never writes Secret values, last-applied configuration or patch values for them', async () => {
    const line = JSON.stringify(await redactRecord(record()));
    for (const secret of ['czNjcjN0', 'YWRtaW4=', 'plain-secret', 'b2xk', 'bmV3']) expect(line).not.toContain(secret);
    const out = JSON.parse(line);
    expect(out.input.object.data).toEqual({ password: '[REDACTED]', user: '[REDACTED]' });
    expect(out.input.object.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/last-applied-configuration': '[REDACTED]', team: 'shop' });
    expect(out.fixesApplied).toEqual([
      { op: 'replace', path: '/data/password', value: '[REDACTED]' },
      { op: 'add', path: '/metadata/labels', value: { owner: 'shop' } },
    ]);
    expect(out.policy.fixes[0].value).toBe('[REDACTED]');
  });

  it('redacts what the policy asks to redact, and secrets in prompt text', async () => {
    const cm = input({
      resource: { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespace: 'a', name: 'c' },
      object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'db-url': 'postgres://u:pw@db', mode: 'x' } },
      oldObject: null,
    });
    const out = await redactRecord(record({ input: cm, patch: null, decision: decision({ redact: ['/data/db-url'] }) }));
    expect(out.input!.object!.data).toEqual({ 'db-url': '[REDACTED]', mode: 'x' });

    const prompt = input({ face: 'prompt', object: null, oldObject: null, content: { text: `log: Authorization: Bearer ${TOKEN} done` } });
    const p = await redactRecord(record({ face: 'prompt', input: prompt, patch: null, decision: decision({ decision: 'defer' }) }));
    expect(JSON.stringify(p)).not.toContain(TOKEN);
    expect((p.input!.content as { text: string }).text).toContain('[REDACTED]');
  });

  it('keeps a tool result as its digest and redacted form: plain text span by span, every secret the scanner finds', async () => {
    const PASS = 'Harbor4821!kube';
    const GH = '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';
    const log = `I0501 dial postgres://app:${PASS}@db:5432/app\nI0501 token ${GH}\nI0501 ready`;
    const tr = input({
      face: 'toolresult',
      object: null,
      oldObject: null,
      tool: { name: 'pods_log', arguments: { name: 'web-1', token: GH }, target: {} },
      content: { value: log, format: 'text', findings: [], digest: canonicalDigest(log), status: 'ok' },
      context: { rationale: `reading logs with --token=${GH}` },
    });
    const out = await redactRecord(record({ face: 'toolresult', input: tr, patch: null, decision: decision() }));
    const line = JSON.stringify(out);
    for (const secret of [PASS, GH]) expect(line).not.toContain(secret);
    expect((out.input!.content as JsonObject).value).toBe(log.replace(PASS, '[REDACTED]').replace(GH, '[REDACTED]'));
    expect(out.recorded.content).toMatchObject({ digest: canonicalDigest(log), status: 'ok', truncated: false, format: 'text' });
    expect(out.recorded.content!.redactions.map((r) => r.kind)).toEqual(['connection-string', 'api-token']);
    expect(out.input!.tool).toMatchObject({
      name: 'pods_log',
      arguments: { name: 'web-1', token: '[REDACTED]' },
      argumentsDigest: canonicalDigest({ name: 'web-1', token: GH }),
    });
    expect(out.recorded['tool.arguments']).toMatchObject({ status: 'ok', redactions: [{ pointer: '/token' }] });
    expect(out.input!.context.rationale).toBe('reading logs with --token=[REDACTED]');
  });

  it('a tool result over the cap keeps a redacted excerpt; one that cannot be scanned keeps its digest only', async () => {
    const GH = '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';
    const big = `token ${GH}\n${'I0501 reconciled\n'.repeat(LOGGED_CONTENT_BYTES / 8)}`;
    const capped = await redactRecord(
      record({
        face: 'toolresult',
        patch: null,
        decision: decision(),
        input: input({ face: 'toolresult', object: null, oldObject: null, content: { value: big, format: 'text' } }),
      }),
    );
    expect((capped.input!.content as JsonObject).value).toBeNull();
    expect(capped.recorded.content).toMatchObject({ truncated: true, status: 'ok', digest: canonicalDigest(big) });
    expect(capped.recorded.content!.excerpt).toMatch(/^token \[REDACTED\]\nI0501/);
    expect(JSON.stringify(capped)).not.toContain(GH);
    let deep: unknown = `token ${GH}`;
    for (let i = 0; i < 600; i++) deep = [deep];
    const unscannable = await redactRecord(
      record({
        face: 'toolresult',
        patch: null,
        decision: decision(),
        input: input({ face: 'toolresult', object: null, oldObject: null, content: { value: deep as never, format: 'json' } }),
      }),
    );
    expect((unscannable.input!.content as JsonObject).value).toBeNull();
    expect(unscannable.recorded.content).toMatchObject({ status: 'too-deep', digest: canonicalDigest(deep) });
    expect(JSON.stringify(unscannable)).not.toContain(GH);
  });

  it('scans objects too: a ConfigMap holding a password, a Pod with a literal token in its env', async () => {
    const cm = input({
      resource: { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespace: 'a', name: 'c' },
      object: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'c' },
        data: { 'application.properties': 'spring.datasource.password=Harbor4821!kube\nmode=x' },
      },
      oldObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'p' },
        spec: { containers: [{ name: 'c', env: [{ name: 'API_TOKEN', value: 'tok-4d3f9a8b7c6e5d4f' }] }] },
      },
    });
    const out = await redactRecord(record({ input: cm, patch: null, decision: decision() }));
    const line = JSON.stringify(out);
    expect(line).not.toContain('Harbor4821!kube');
    expect(line).not.toContain('tok-4d3f9a8b7c6e5d4f');
    expect(out.input!.object!.data).toEqual({ 'application.properties': 'spring.datasource.password=[REDACTED]\nmode=x' });
    expect(out.recorded.object!.digest).toBe(canonicalDigest(cm.object));
    expect(out.recorded.oldObject!.redactions).toEqual([expect.objectContaining({ pointer: '/spec/containers/0/env/0/value' })]);
  });

  it('keeps what replay needs: the summary, the digest of the logged input, the policy answer', async () => {
    const out = await redactRecord(record());
    expect(out).toMatchObject({
      time: '2026-05-01T10:00:00.000Z',
      face: 'admission',
      revision: 'rev-9',
      verdict: 'fix',
      rules: ['secret.label'],
      reasons: [{ rule: 'secret.label' }],
      latencyMs: 1.235,
    });
    expect(out.inputDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await redactRecord(record())).inputDigest).toBe(out.inputDigest);
    expect(out.input!.resource.name).toBe('db');
  });
});

describe('DecisionLog', () => {
  it('writes one JSON line per decision to a file and reads back', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-dlog-')), 'decisions.log');
    const log = new DecisionLog({ destination: file });
    log.record(record({ id: 'a' }));
    log.record(record({ id: 'b' }));
    await log.close();
    const { entries, errors } = parseDecisionLog(readFileSync(file, 'utf8'));
    expect(errors).toEqual([]);
    expect(entries.map((e) => e.id)).toEqual(['a', 'b']);
    expect(log.written).toBe(2);
  });

  it('records a decision whose input cannot be redacted, without the input', async () => {
    // An object nested past what any recursive walk survives: the redaction throws, the decision is still logged.
    let deep: Record<string, unknown> = { data: { password: 'czNjcjN0' } };
    for (let i = 0; i < 200_000; i++) deep = { x: deep };
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-dlog-')), 'decisions.log');
    const errors: unknown[] = [];
    const log = new DecisionLog({ destination: file, onError: (e) => errors.push(e) });
    log.record(record({ id: 'deep', verdict: 'allow', input: input({ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, deep } }) }));
    log.record(record({ id: 'after' }));
    await log.close();
    const text = readFileSync(file, 'utf8');
    const { entries } = parseDecisionLog(text);
    expect(entries.map((e) => e.id)).toEqual(['deep', 'after']);
    expect(entries[0]).toMatchObject({
      verdict: 'allow',
      input: null,
      policy: null,
      inputDigest: null,
      actor: { username: 'system:serviceaccount:agents:bot' },
    });
    expect(entries[0]!.inputOmitted).toMatch(/could not be redacted/);
    expect(errors).toHaveLength(1);
    expect(text).not.toContain('czNjcjN0');
  });

  it('rotates by size and keeps a bounded number of files', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'belay-dlog-')), 'decisions.log');
    const one = JSON.stringify(await redactRecord(record())).length + 1;
    const log = new DecisionLog({ destination: file, maxBytes: one * 3, maxFiles: 2 });
    for (let i = 0; i < 10; i++) log.record(record({ id: `r${i}` }));
    await log.close();
    const ids = (f: string) => parseDecisionLog(readFileSync(f, 'utf8')).entries.map((e) => e.id);
    expect(ids(file)).toEqual(['r9']);
    expect(ids(`${file}.1`)).toEqual(['r6', 'r7', 'r8']);
    expect(ids(`${file}.2`)).toEqual(['r3', 'r4', 'r5']);
    expect(existsSync(`${file}.3`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`]) expect(readFileSync(f).length).toBeLessThanOrEqual(one * 3);
  });

  it('writes to a stream (stdout), and drops rather than queueing without bound', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (c) => chunks.push(String(c)));
    const log = new DecisionLog({ destination: stream, maxQueue: 5 });
    for (let i = 0; i < 20; i++) log.record(record({ id: `s${i}` }));
    await log.close();
    const { entries } = parseDecisionLog(chunks.join(''));
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length + log.dropped).toBe(20);
    expect(log.dropped).toBeGreaterThan(0);
  });

  it('reports unreadable lines with their numbers', () => {
    expect(parseDecisionLog('{"face":"admission"}\nnot json\n\n[]\n').errors.map((e) => e.line)).toEqual([2, 4]);
  });
});
