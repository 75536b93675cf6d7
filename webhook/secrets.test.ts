// Secrets at the faces of a real gateway (HTTPS, the shipped policies plus
// two test rules that defer or deny some tool results, a decision log file,
// a local approval store). Every document of the secrets corpus
// (src/scan/corpus) goes through the prompt face, the tool-result face (as
// text, as an MCP content array, as a JSON value) and the tool-call face
// (as an argument); then no labelled secret may be found in any answer's
// `result` or `redacted`, in what GET /v1/approvals shows, in the decision
// log or in any stored ApprovalRequest. What the scanner misses in a field
// policy must see would be the residual: it is listed, and expected empty.
// Then bad input at the faces: MB-sized logs, invalid UTF-8 and binary
// text, deep nesting, thousands of matches — bounded time, fail closed.

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entrypointOf, FACES } from '../src/contract/index.js';
import { silentLogger } from '../src/observe/log.js';
import { type CorpusDoc, loadCorpus } from '../src/scan/corpus/corpus.js';
import { request } from '../src/testkit/console.js';
import { buildBundle } from '../src/testkit/opa-bundle.js';
import { type Gateway, startGateway } from './gateway.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const AGENT_TOKEN = 'corpus-agent-token-0123456789abcdef';
const APPROVER_TOKEN = 'corpus-approver-token-0123456789ab';
const AGENT = 'system:serviceaccount:agents:corpus-bot';

/** Added to the shipped policies: results of these tools are deferred or withheld whatever they hold. */
const TEST_RULES = `package belay.toolresult.rules

import rego.v1

violations contains {"rule": "test.corpus.defer", "message": "results of this tool need a human", "severity": "high", "action": "defer"} if input.tool.name == "corpus_defer"

violations contains {"rule": "test.corpus.deny", "message": "results of this tool never reach the model", "severity": "high", "action": "deny"} if input.tool.name == "corpus_deny"
`;

interface Reply {
  status: number;
  body: any;
  ms: number;
}

interface Fixture {
  gateway: Gateway;
  ca: Buffer;
  dir: string;
  logFile: string;
  post(pathname: string, body: unknown, raw?: Buffer): Promise<Reply>;
  get(pathname: string, token?: string): Promise<Reply>;
}

async function startFixture(scanTimeoutMs?: number): Promise<Fixture> {
  const dir = mkdtempSync(path.join(tmpdir(), 'belay-secrets-'));
  const policy = path.join(dir, 'policy');
  cpSync(path.join(ROOT, 'policies'), policy, { recursive: true });
  writeFileSync(path.join(policy, 'corpus_rules.rego'), TEST_RULES);
  const bundleFile = path.join(dir, 'bundle.tar.gz');
  writeFileSync(bundleFile, buildBundle(policy, { revision: 'corpus', entrypoints: FACES.map((f) => entrypointOf(f)) }));
  const tokenFile = path.join(dir, 'agents.yaml');
  writeFileSync(
    tokenFile,
    [
      `- {token: ${AGENT_TOKEN}, username: "${AGENT}", groups: ["system:serviceaccounts", "system:serviceaccounts:agents"]}`,
      // An approver reads GET /v1/approvals with the same API.
      `- {token: ${APPROVER_TOKEN}, username: alice, groups: ["belay:approvers"]}`,
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'decisions.log');
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: bundleFile },
    tlsDir: path.join(dir, 'tls'),
    log: silentLogger,
    evaluation: { mode: 'in-process' },
    // One agent sends the whole corpus: the flood bounds (tested in src/approvals) would refuse most of it.
    approvals: { stateDir: path.join(dir, 'state'), gatewayUser: 'belay-gateway', maxOpenPerTarget: 10_000, maxOpenPerRequester: 10_000 },
    agentApi: { tokenFile, ...(scanTimeoutMs !== undefined ? { scanTimeoutMs } : {}) },
    decisionLog: { destination: logFile },
  });
  const ca = readFileSync(gateway.caFile);
  const send = async (method: string, pathname: string, token: string, raw?: Buffer): Promise<Reply> => {
    const t0 = performance.now();
    const r = await request({ url: gateway.url, ca }, method, pathname, { token, ...(raw ? { raw } : {}) });
    return { status: r.status, body: r.body ?? r.text, ms: performance.now() - t0 };
  };
  return {
    gateway,
    ca,
    dir,
    logFile,
    post: (pathname, body, raw) => send('POST', pathname, AGENT_TOKEN, raw ?? Buffer.from(JSON.stringify(body))),
    get: (pathname, token = AGENT_TOKEN) => send('GET', pathname, token),
  };
}

/** Every string in a JSON value, keys included. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push(k);
      strings(x, out);
    }
  }
  return out;
}

/**
 * The parts of a labelled secret that must not be found: the secret's lines
 * (a PEM key or a JSON key file spans several, each of which would leak on
 * its own), without the armor lines, 8 characters or more.
 */
function secretParts(doc: CorpusDoc): { type: string; line: number; part: string }[] {
  return doc.labels.flatMap((l) =>
    doc.text
      .slice(l.start, l.end)
      .split(/\n|\\n/)
      .map((p) => p.trim())
      .filter((p) => p.length >= 8 && !/^-----/.test(p))
      .map((part) => ({ type: l.type, line: l.line, part })),
  );
}

interface Leak {
  where: string;
  doc: string;
  type: string;
  line: number;
}

/** Looks for every labelled secret of every document in `value`'s strings. */
function leaksIn(where: string, value: unknown, docs: readonly CorpusDoc[]): Leak[] {
  const all = strings(value);
  const out: Leak[] = [];
  for (const doc of docs) {
    for (const s of secretParts(doc)) {
      if (all.some((x) => x.includes(s.part))) out.push({ where, doc: doc.file, type: s.type, line: s.line });
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const docs = loadCorpus();

describe('the secrets corpus through a real gateway', () => {
  let f: Fixture;
  const answers: { where: string; doc: CorpusDoc; body: any; field: unknown }[] = [];
  const decisions: Record<string, Record<string, number>> = {};
  const count = (face: string, decision: string) => {
    decisions[face] ??= {};
    decisions[face][decision] = (decisions[face][decision] ?? 0) + 1;
  };

  beforeAll(async () => {
    f = await startFixture();
    for (const [i, doc] of docs.entries()) {
      const prompt = await f.post('/v1/prompts:check', { text: doc.text, requestId: `p-${i}` });
      expect(prompt.status, doc.file).toBe(200);
      count('prompt', prompt.body.decision);
      answers.push({ where: 'prompt redacted', doc, body: prompt.body, field: prompt.body.redacted });

      // A tool result as text, by a tool whose results are allowed, deferred or withheld in turn.
      const tool = ['cat_file', 'corpus_defer', 'corpus_deny'][i % 3]!;
      const text = await f.post('/v1/tool-results:redact', { tool: { name: tool, arguments: { path: doc.file } }, result: doc.text, requestId: `t-${i}` });
      expect(text.status, doc.file).toBe(200);
      count(`toolresult ${tool}`, text.body.decision);
      answers.push({ where: `tool result (text, ${tool})`, doc, body: text.body, field: text.body.result });

      // The same document as an MCP content array, deferred every other time.
      const mcpTool = i % 2 === 0 ? 'files_read' : 'corpus_defer';
      const mcp = await f.post('/v1/tool-results:redact', {
        tool: { name: mcpTool, arguments: { path: doc.file } },
        result: [{ type: 'text', text: doc.text }],
        requestId: `m-${i}`,
      });
      expect(mcp.status, doc.file).toBe(200);
      expect(mcp.body.format, doc.file).toBe('mcp-content');
      count(`toolresult mcp ${mcpTool}`, mcp.body.decision);
      answers.push({ where: `tool result (MCP content, ${mcpTool})`, doc, body: mcp.body, field: mcp.body.result });

      // A JSON document also as a JSON value, and as a tool call's argument (an object).
      let parsed: unknown;
      try {
        parsed = doc.file.endsWith('.json') ? JSON.parse(doc.text) : undefined;
      } catch {
        parsed = undefined;
      }
      if (typeof parsed === 'object' && parsed !== null) {
        const value = await f.post('/v1/tool-results:redact', { tool: { name: 'resources_get', arguments: {} }, result: parsed, requestId: `v-${i}` });
        expect(value.status, doc.file).toBe(200);
        count('toolresult value', value.body.decision);
        answers.push({ where: 'tool result (JSON value)', doc, body: value.body, field: value.body.result });
        const applyCall = await f.post('/v1/tool-calls:evaluate', { tool: { name: 'corpus_apply', arguments: { resource: parsed } }, requestId: `a-${i}` });
        expect(applyCall.status, doc.file).toBe(200);
        count('toolcall object', applyCall.body.decision);
      }

      // The document as a plain-string argument of a tool call (an unknown tool: deferred).
      const write = await f.post('/v1/tool-calls:evaluate', {
        tool: { name: 'corpus_write', arguments: { path: doc.file, content: doc.text } },
        requestId: `w-${i}`,
      });
      expect(write.status, doc.file).toBe(200);
      count('toolcall text', write.body.decision);
      if (write.body.approval?.url) {
        for (const token of [AGENT_TOKEN, APPROVER_TOKEN]) {
          const seen = await f.get(write.body.approval.url, token);
          expect(seen.status, doc.file).toBe(200);
          answers.push({ where: `GET /v1/approvals (${token === AGENT_TOKEN ? 'agent' : 'approver'})`, doc, body: seen.body, field: seen.body });
        }
      }
    }
    // Closing flushes the decision log.
    await f.gateway.close();
  }, 600_000);

  afterAll(async () => {
    await f?.gateway.close();
    if (f) rmSync(f.dir, { recursive: true, force: true });
  });

  it('sends every document through every face, some deferred and some refused by policy', () => {
    console.log(`decisions by face: ${JSON.stringify(decisions)}`);
    expect(decisions.prompt?.defer ?? 0).toBeGreaterThan(30);
    expect(decisions['toolresult corpus_defer']?.defer).toBeGreaterThan(15);
    expect(decisions['toolresult corpus_deny']?.deny).toBeGreaterThan(15);
    expect(decisions['toolresult cat_file']?.allow).toBeGreaterThan(15);
    // The hard negatives pass: nothing in them is a secret.
    for (const a of answers.filter((x) => x.doc.channel === 'negative' && x.where === 'prompt redacted')) {
      expect(a.body, a.doc.file).toMatchObject({ decision: 'allow', findings: [] });
    }
  });

  it('answers with the findings at their exact UTF-16 offsets: every labelled secret covered', () => {
    const uncovered: string[] = [];
    for (const a of answers.filter((x) => x.where === 'prompt redacted')) {
      for (const l of a.doc.labels) {
        const covered = (a.body.findings as { start: number; end: number }[]).some((x) => x.start <= l.start && x.end >= l.end);
        if (!covered) uncovered.push(`${a.doc.file}:${l.line} ${l.type}`);
      }
    }
    expect(uncovered).toEqual([]);
  });

  it('has a leak check that can fail: it finds every labelled secret in the documents as sent', () => {
    for (const doc of docs) expect(leaksIn('as sent', [doc.text], [doc]).length, doc.file).toBe(secretParts(doc).length);
    expect(docs.reduce((n, d) => n + secretParts(d).length, 0)).toBeGreaterThan(130);
  });

  it('never returns a labelled secret in `result`, `redacted` or an approval, whatever the decision', () => {
    const leaks = answers.flatMap((a) => leaksIn(`${a.where} → ${a.body.decision}`, a.field, [a.doc]));
    console.log(`answers checked: ${answers.length}; residual in answers: ${leaks.length ? JSON.stringify(leaks, null, 1) : 'none'}`);
    expect(leaks).toEqual([]);
    // Withheld means withheld: a refused result carries nothing.
    for (const a of answers.filter((x) => x.where.startsWith('tool result') && x.body.decision === 'deny')) expect(a.field, a.doc.file).toBeNull();
    // What was hidden is listed, for the deferred ones too.
    for (const a of answers.filter((x) => x.where.startsWith('tool result (text') && x.body.decision === 'defer' && x.doc.labels.length > 0)) {
      expect(a.body.redactions.length, a.doc.file).toBeGreaterThan(0);
    }
  });

  it('writes no labelled secret to the decision log', () => {
    const text = readFileSync(f.logFile, 'utf8');
    const lines = text.split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(docs.length * 3);
    const entries = lines.map((l) => JSON.parse(l));
    const leaks = leaksIn('decision log', entries, docs);
    console.log(`decision log: ${lines.length} lines, ${Buffer.byteLength(text)} bytes; residual: ${leaks.length ? JSON.stringify(leaks, null, 1) : 'none'}`);
    expect(leaks).toEqual([]);
    // Each prompt and tool result is kept as a digest and its redacted form.
    const results = entries.filter((e) => e.face === 'toolresult');
    expect(results.every((e) => /^sha256:[0-9a-f]{64}$/.test(e.recorded.content.digest))).toBe(true);
  });

  it('stores no labelled secret in any ApprovalRequest', () => {
    const files = filesUnder(path.join(f.dir, 'state')).filter((p) => p.endsWith('.json'));
    expect(files.length).toBeGreaterThan(docs.length);
    const records = files.map((p) => JSON.parse(readFileSync(p, 'utf8')));
    const leaks = leaksIn('approval records', records, docs);
    console.log(`approval records: ${files.length}; residual: ${leaks.length ? JSON.stringify(leaks, null, 1) : 'none'}`);
    expect(leaks).toEqual([]);
    const calls = records.filter((r) => r.spec.face === 'toolcall');
    expect(calls.length).toBeGreaterThan(docs.length / 2);
    expect(calls.every((r) => /^sha256:/.test(r.spec.tool.argumentsDigest))).toBe(true);
  });
});

describe('bad input at the faces', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  }, 120_000);
  afterAll(async () => {
    await f?.gateway.close();
    if (f) rmSync(f.dir, { recursive: true, force: true });
  });

  const GH = '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';
  const token = (i: number) => `ghp_${String(i).padStart(6, '0')}wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO`;
  /** A scan may run its budget (2 s) and one window's work past it; the rest is parsing and policy. */
  const SCAN_BOUND_MS = 2_000 + 5_000;

  it('an MB-sized log: redacted within the time bound, or withheld and deferred when the bound is hit', async () => {
    const line = (i: number) =>
      `2026-05-01T10:00:${String(i % 60).padStart(2, '0')}Z INFO reconciled pod web-${i} in prod-billing (took 12ms) status=Running\n`;
    let log = '';
    let tokens = 0;
    for (let i = 0; log.length < 6 * 1024 * 1024; i++) {
      if (i % 5000 === 0) tokens++;
      log += i % 5000 === 0 ? `ERROR auth failed with token ${token(i)}\n` : line(i);
    }
    const r = await f.post('/v1/tool-results:redact', { tool: { name: 'pods_log', arguments: { name: 'web' } }, result: log });
    console.log(
      `6 MiB log: ${Math.round(r.ms)} ms at the face, scan ${r.body.scan.status} in ${r.body.scan.elapsedMs} ms, ${r.body.redactions.length} redactions`,
    );
    expect(r.status).toBe(200);
    expect(r.body.scan.elapsedMs).toBeLessThan(SCAN_BOUND_MS);
    expect(JSON.stringify(r.body)).not.toMatch(/ghp_\d{6}/);
    if (r.body.scan.status === 'ok') {
      expect(r.body).toMatchObject({ decision: 'allow', format: 'text', withheld: false });
      expect(r.body.redactions.length).toBe(tokens);
      expect((r.body.result as string).length).toBe(log.length - tokens * (token(0).length - '[REDACTED]'.length));
    } else {
      expect(r.body).toMatchObject({ decision: 'defer', result: null, withheld: true, reasons: [{ rule: 'belay.unscanned' }] });
    }
  }, 120_000);

  it('a scan that times out fails closed at every face: withheld and deferred, saying why', async () => {
    const slow = await startFixture(1);
    try {
      const log = `${'I0501 reconciled pod web-1 in shop\n'.repeat(20_000)}token ${GH}\n`;
      const r = await slow.post('/v1/tool-results:redact', { tool: { name: 'pods_log' }, result: log });
      expect(r.body).toMatchObject({ decision: 'defer', result: null, withheld: true, scan: { status: 'timeout' }, approval: { phase: 'Pending' } });
      expect(r.body.message).toMatch(/could not scan this tool result for secrets .*withheld until an approver/);
      const p = await slow.post('/v1/prompts:check', { text: 'I0501 reconciled pod web-1 in shop\n'.repeat(20_000) });
      expect(p.body).toMatchObject({ decision: 'defer', redacted: null, scan: { status: 'timeout' } });
      const c = await slow.post('/v1/tool-calls:evaluate', { tool: { name: 'pods_list', arguments: { namespace: 'shop', note: log } } });
      expect(c.body).toMatchObject({ decision: 'defer', reasons: expect.arrayContaining([expect.objectContaining({ rule: 'belay.unscanned' })]) });
      await slow.gateway.close();
      const logged = readFileSync(slow.logFile, 'utf8');
      expect(logged).not.toContain(GH);
      expect(logged).toContain('"status":"timeout"');
    } finally {
      await slow.gateway.close();
      rmSync(slow.dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('invalid UTF-8 and binary text: read as text, secrets found at their UTF-16 offsets', async () => {
    // Bytes that are not UTF-8 arrive as U+FFFD; control characters and NUL as JSON escapes.
    const body = Buffer.concat([
      Buffer.from('{"tool":{"name":"cat"},"result":"'),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from(`\\u0000\\u0001\\u001b[31m binary \\u00e9\\ud83d\\ude80 token=${GH}\\n`),
      Buffer.from('"}'),
    ]);
    const r = await f.post('/v1/tool-results:redact', null, body);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ decision: 'allow', format: 'text' });
    // The span is where the gateway read the token, in UTF-16 code units of the text it decoded.
    const [x] = r.body.redactions;
    expect(x.end - x.start).toBe(GH.length);
    expect((r.body.result as string).slice(x.start, x.start + '[REDACTED]'.length)).toBe('[REDACTED]');
    expect((r.body.result as string).endsWith('\u0000\u0001\u001b[31m binary é🚀 token=[REDACTED]\n')).toBe(true);
    const sent = `\u0000\u0001 binary é🚀 token=${GH}\n`;
    const p = await f.post('/v1/prompts:check', { text: sent });
    expect(sent.slice(p.body.findings[0].start, p.body.findings[0].end)).toBe(GH);
    expect(p.body.redacted).toBe(sent.replace(GH, '[REDACTED]'));
  });

  it('deeply nested JSON: refused before it is parsed (the body reader bounds depth), never passed on or echoed', async () => {
    const deep = JSON.parse(`${'['.repeat(3000)}"token ${GH}"${']'.repeat(3000)}`);
    const r = await f.post('/v1/tool-results:redact', { tool: { name: 'resources_get' }, result: deep });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/nest|deep/i);
    const c = await f.post('/v1/tool-calls:evaluate', { tool: { name: 'pods_list', arguments: { filter: deep } } });
    expect(c.status).toBe(400);
    expect(JSON.stringify([r.body, c.body])).not.toContain(GH);
  });

  it('thousands of matches: every one redacted in bounded time, or withheld', async () => {
    const log = Array.from({ length: 5000 }, (_, i) => `I0501 retry ${i} with ${token(i)}`).join('\n');
    const r = await f.post('/v1/tool-results:redact', { tool: { name: 'pods_log' }, result: log });
    console.log(`5000 tokens: ${Math.round(r.ms)} ms at the face, scan ${r.body.scan.status} in ${r.body.scan.elapsedMs} ms`);
    expect(r.status).toBe(200);
    expect(r.body.scan.elapsedMs).toBeLessThan(SCAN_BOUND_MS);
    expect(JSON.stringify(r.body)).not.toMatch(/ghp_\d{6}/);
    if (r.body.scan.status === 'ok') expect(r.body.redactions).toHaveLength(5000);
    else expect(r.body).toMatchObject({ decision: 'defer', result: null });
    const p = await f.post('/v1/prompts:check', { text: log });
    expect(p.status).toBe(200);
    expect(JSON.stringify([p.body.redacted, p.body.reasons])).not.toMatch(/ghp_\d{6}/);
  }, 120_000);
});
