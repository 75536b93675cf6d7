// What the agent API hands back and keeps of secrets, over HTTP: plain-text
// and MCP tool results redacted span by span, a deferred or refused result
// never carrying a secret, content that cannot be scanned in time withheld
// and deferred, ordinary words left alone, and an approver who edits the
// redacted arguments of a call without ever seeing (or breaking) the values.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness, TOKENS } from '../../src/testkit/agent-api.js';

const GH = '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';
const PASS = 'Harbor4821!kube';
const KEY = [
  '-----BEGIN EC PRIVATE KEY-----',
  'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oh4cNU0zpBmzoAoGCCqGSM49',
  'AwEHoUQDQgAEyqc4bqT5Kr8wQ2CkGcX0hR8l0jW0yJ5tXk3oV4Jm0lR3w9nQ0s2T',
  '-----END EC PRIVATE KEY-----',
].join('\n');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

const redact = (body: unknown, harness = h) => call(harness, 'POST', '/v1/tool-results:redact', { token: TOKENS.agent, body });
const check = (body: unknown, harness = h) => call(harness, 'POST', '/v1/prompts:check', { token: TOKENS.agent, body });
const evaluate = (body: unknown) => call(h, 'POST', '/v1/tool-calls:evaluate', { token: TOKENS.agent, body });

/** Every string in a JSON value. */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) strings(x, out);
  return out;
}
const holds = (v: unknown, secret: string) => strings(v).some((s) => s.includes(secret));

describe('POST /v1/tool-results:redact with text and MCP content', () => {
  it('a plain-text pod log is redacted span by span, not refused', async () => {
    const log = `I0501 10:00:00 starting web-1\nE0501 10:00:01 dial postgres://app:${PASS}@db:5432/app: timeout\nI0501 using token ${GH}\nI0501 ready`;
    const r = await redact({ tool: { name: 'pods_log', arguments: { name: 'web-1' } }, result: log });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ decision: 'allow', format: 'text', withheld: false, scan: { status: 'ok' } });
    expect(r.body.result).toBe(log.replace(PASS, '[REDACTED]').replace(GH, '[REDACTED]'));
    expect(r.body.redactions.map((x: { pointer: string; start: number; end: number }) => [x.pointer, log.slice(x.start, x.end)])).toEqual([
      ['', PASS],
      ['', GH],
    ]);
    expect(r.body.redactions[1]).toMatchObject({ kind: 'api-token', reason: expect.any(String), rule: expect.any(String) });
    expect(JSON.stringify(h.decisions.at(-1))).toContain('pods_log');
  });

  it('`kubectl describe` output, a shell session and a format hint of text are read as text', async () => {
    const describe = `Name:         web-1\nNamespace:    shop\nEnvironment:\n  DB_PASSWORD:  ${PASS}\n  MODE:         fast\nEvents:       <none>`;
    const r = await redact({ tool: { name: 'resources_describe' }, result: describe, format: 'text' });
    expect(r.body).toMatchObject({ decision: 'allow', format: 'text' });
    expect(r.body.result).toBe(describe.replace(PASS, '[REDACTED]'));
    const shell = `$ env | grep TOKEN\nGITHUB_TOKEN=${GH}\n$ echo done\ndone`;
    expect((await redact({ tool: { name: 'shell_run' }, result: shell })).body.result).toBe(shell.replace(GH, '[REDACTED]'));
  });

  it('an MCP content array comes back in its shape, each text item redacted', async () => {
    const content = [
      { type: 'text', text: `export GITHUB_TOKEN=${GH}` },
      { type: 'resource', resource: { uri: 'file:///app/values.yaml', mimeType: 'text/yaml', text: `db:\n  password: ${PASS}\n` } },
      { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    ];
    const r = await redact({ tool: { name: 'files_read' }, result: content });
    expect(r.body).toMatchObject({ decision: 'allow', format: 'mcp-content' });
    expect(r.body.result).toEqual([
      { type: 'text', text: 'export GITHUB_TOKEN=[REDACTED]' },
      { type: 'resource', resource: { uri: 'file:///app/values.yaml', mimeType: 'text/yaml', text: 'db:\n  password: "[REDACTED]"\n' } },
      content[2],
    ]);
    expect(r.body.redactions.map((x: { pointer: string; documentPointer?: string }) => [x.pointer, x.documentPointer])).toEqual([
      ['/0/text', undefined],
      ['/1/resource/text', '/db/password'],
    ]);
  });

  it('a deferred result is returned redacted, with what was hidden; a refused one not at all', async () => {
    const text = `$ cat /etc/app/tls.key\n${KEY}\n$ exit`;
    const deferred = await redact({ tool: { name: 'shell_run' }, result: text, requestId: 'key-1' });
    expect(deferred.body).toMatchObject({ decision: 'defer', reasons: [{ rule: 'test.result.private_key' }], approval: { phase: 'Pending' }, withheld: false });
    expect(holds(deferred.body.result, 'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oh4cNU0zpBmzoAoGCCqGSM49')).toBe(false);
    expect(deferred.body.result).toContain('$ cat /etc/app/tls.key');
    expect(deferred.body.redactions).toEqual([expect.objectContaining({ kind: 'private-key', pointer: '' })]);
    // Until an approval says otherwise: [Approve] lets it through.
    h.approvals.decide(deferred.body.approval.id, 'Approved', 'alice');
    const approved = await redact({ tool: { name: 'shell_run' }, result: text, requestId: 'key-1' });
    expect(approved.body).toMatchObject({ decision: 'allow', result: text, redactions: [] });

    const denied = await redact({ tool: { name: 'nodes_log' }, result: `kubelet: token ${GH}` });
    expect(denied.body).toMatchObject({ decision: 'deny', result: null, withheld: true, redactions: [] });
    expect(JSON.stringify(denied.body)).not.toContain(GH);
  });

  it('ordinary words, hashes and API paths are not deferred or redacted', async () => {
    const text = [
      'An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.',
      '  checksum/secret: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'I0501 GET /apis/authentication.k8s.io/v1/tokenreviews 201 in 3ms',
      'I0501 GET /api/v1/namespaces/kube-system/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token 200',
    ].join('\n');
    const result = await redact({ tool: { name: 'pods_log' }, result: text });
    expect(result.body).toMatchObject({ decision: 'allow', result: text, redactions: [], reasons: [] });
    const deployment = {
      kind: 'Deployment',
      metadata: { name: 'web', annotations: { 'checksum/secret': '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' } },
    };
    expect((await redact({ tool: { name: 'resources_get' }, result: deployment })).body).toMatchObject({ result: deployment, redactions: [] });
    const prompt = await check({ text });
    expect(prompt.body).toMatchObject({ decision: 'allow', findings: [], redacted: text });
  });

  it('finds with UTF-16 offsets through astral characters and lone surrogates (half an emoji cut off by a tool)', async () => {
    const text = `🚀🚀 déploiement \ud800 ok\ntoken=${GH} 🎉`;
    const r = await redact({ tool: { name: 'pods_log' }, result: text });
    expect(r.body).toMatchObject({ decision: 'allow', format: 'text' });
    const [f] = r.body.redactions;
    expect(text.slice(f.start, f.end)).toBe(GH);
    expect(r.body.result).toBe(text.replace(GH, '[REDACTED]'));
    const p = await check({ text });
    expect(text.slice(p.body.findings[0].start, p.body.findings[0].end)).toBe(GH);
  });
});

describe('content that cannot be scanned within the time bound', () => {
  let slow: Harness;
  beforeAll(async () => {
    // A budget far below what 200 KB of text needs: every such scan times out.
    slow = await startHarness(undefined, { scanTimeoutMs: 1 });
  });
  afterAll(async () => {
    await slow?.close();
  });
  const big = `I0501 reconciled pod web-1 in shop; token ${GH}\n`.repeat(3000);

  it('a tool result is withheld and deferred, with a message saying why', async () => {
    const r = await redact({ tool: { name: 'pods_log' }, result: big }, slow);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      decision: 'defer',
      result: null,
      withheld: true,
      redactions: [],
      scan: { status: 'timeout', message: expect.stringMatching(/deadline/) },
      reasons: [{ rule: 'belay.unscanned', message: expect.stringMatching(/could not scan this tool result for secrets .*withheld/) }],
      approval: { phase: 'Pending' },
    });
    expect(r.body.message).toMatch(/belay could not scan this tool result/);
    expect(JSON.stringify(r.body)).not.toContain(GH);
    // The decision record holds the policy input; the decision log (tested apart) keeps its digest only.
    expect(slow.decisions.at(-1)).toMatchObject({ verdict: 'defer', rules: ['belay.unscanned'] });
  });

  it("policy's deny still stands", async () => {
    const r = await redact({ tool: { name: 'nodes_log' }, result: big }, slow);
    expect(r.body).toMatchObject({ decision: 'deny', result: null, withheld: true });
  });

  it('a prompt fails closed: deferred, without a redacted text', async () => {
    const r = await check({ text: 'I0501 reconciled pod web-1 in shop\n'.repeat(6000) }, slow);
    expect(r.body).toMatchObject({ decision: 'defer', redacted: null, scan: { status: 'timeout' }, reasons: [{ rule: 'belay.unscanned' }] });
    // With part of a secret found before the deadline, policy's own answer (a deny here) stands.
    const partial = await check({ text: big }, slow);
    expect(partial.body).toMatchObject({ redacted: null, scan: { status: 'timeout' } });
    expect(['deny', 'defer']).toContain(partial.body.decision);
    expect(JSON.stringify(partial.body)).not.toContain(GH);
  });
});

describe("an approver edits a call's arguments on their redacted view", () => {
  const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\nstringData:\n  password: ${PASS}\n`;
  const tool = { name: 'resources_create_or_update', arguments: { namespace: 'shop', resource: manifest, note: 'rotate' } };

  it('sees the arguments redacted, and a value left as shown keeps the agent’s own', async () => {
    const first = await evaluate({ tool, requestId: 'edit-redacted-1' });
    expect(first.body).toMatchObject({ decision: 'defer', reasons: [{ rule: 'test.tool.credential' }] });
    const seen = await call(h, 'GET', first.body.approval.url, { token: TOKENS.approver });
    expect(JSON.stringify(seen.body)).not.toContain(PASS);
    expect(seen.body).toMatchObject({ argumentsRedacted: true, tool: { argumentsDigest: expect.stringMatching(/^sha256:/) } });
    expect(seen.body.tool.redactions).toEqual([expect.objectContaining({ pointer: '/resource', kind: expect.any(String), rule: expect.any(String) })]);
    // The approver changes the note and leaves the redacted manifest as it was shown.
    h.approvals.decide(first.body.approval.id, 'Approved', 'alice', { arguments: { ...seen.body.arguments, note: 'rotated by alice' } });
    const run = await evaluate({ tool, requestId: 'edit-redacted-1' });
    expect(run.body).toMatchObject({
      decision: 'allow',
      edited: true,
      tool: { arguments: { namespace: 'shop', resource: manifest, note: 'rotated by alice' } },
    });
  });

  it('an edit that moves a redacted value is refused and leaves the approval unused', async () => {
    const first = await evaluate({ tool, requestId: 'edit-redacted-2' });
    const seen = await call(h, 'GET', first.body.approval.url, { token: TOKENS.approver });
    h.approvals.decide(first.body.approval.id, 'Approved', 'alice', { arguments: { namespace: 'shop', manifest: seen.body.arguments.resource } });
    const run = await evaluate({ tool, requestId: 'edit-redacted-2' });
    expect(run.body).toMatchObject({ decision: 'deny', approval: { phase: 'Refused', message: expect.stringMatching(/redacted value at \/manifest/) } });
    expect(h.approvals.records.find((x) => `belay/${x.metadata.name}` === first.body.approval.id)!.status!.phase).toBe('Approved');
  });
});
