// The tool-result face's scan and redaction: every shape a result comes in
// (plain text, JSON and YAML text, MCP content, JSON values), pointers policy
// can read, Secret values and policy paths on top, and nothing at all for a
// result that cannot be scanned.

import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BelayError } from '../errors.js';
import { canonicalDigest, REDACTED, redactScanned, scanResult } from './index.js';

const GH = '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';
const PASS = 'Harbor4821!kube';

describe('scanResult + redactScanned', () => {
  it('plain text (a pod log): exactly the secret spans, offsets into the text as sent', () => {
    const log = `2024-05-01T10:00:00Z 🚀 starting web-1\n2024-05-01T10:00:01Z connecting to postgres://app:${PASS}@db:5432/app\nusing ${GH} for git\nready`;
    const s = scanResult(log);
    expect(s).toMatchObject({ status: 'ok', format: 'text', value: log, digest: canonicalDigest(log) });
    expect(s.findings.map((f) => [f.pointer, log.slice(f.start, f.end)])).toEqual([
      ['', PASS],
      ['', GH],
    ]);
    const r = redactScanned(s);
    expect(r.result).toBe(log.replace(PASS, REDACTED).replace(GH, REDACTED));
    expect(r.redactions.map((x) => [x.pointer, x.kind, x.start])).toEqual([
      ['', s.findings[0]!.kind, s.findings[0]!.start],
      ['', 'api-token', s.findings[1]!.start],
    ]);
  });

  it('JSON text: the document stays JSON, pointers point into it, a Secret value is listed once', () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, data: { password: 'aHVudGVyMg==', empty: '' } };
    const text = JSON.stringify(secret, null, 2);
    const s = scanResult(text);
    expect(s.format).toBe('json');
    expect(s.value).toEqual(secret);
    const r = redactScanned(s);
    expect(JSON.parse(r.result as string)).toEqual({ ...secret, data: { password: REDACTED, empty: REDACTED } });
    expect(r.result as string).toMatch(/^\{\n {2}"apiVersion"/);
    expect(r.redactions.map((x) => [x.pointer, x.rule])).toEqual([
      ['/data/password', 'belay/secret-data'],
      ['/data/empty', 'belay/secret-data'],
    ]);
  });

  it('YAML text: comments kept, policy paths hidden on top, paths that name nothing reported', () => {
    const yaml = `# helm get values\ndb:\n  password: ${PASS}   # rotated monthly\n  host: db.shop.svc\nreplicas: 2\n`;
    const s = scanResult(yaml);
    expect(s.format).toBe('yaml');
    expect(s.findings).toMatchObject([{ pointer: '/db/password', kind: 'password', start: 0, end: PASS.length }]);
    const clean = redactScanned(s);
    expect(clean.result).toBe(yaml.replace(PASS, `"${REDACTED}"`));
    const r = redactScanned(s, { policyPaths: ['/db/host', '/nothing/here'] });
    expect(parseAllDocuments(r.result as string)[0]!.toJS()).toEqual({ db: { password: REDACTED, host: REDACTED }, replicas: 2 });
    expect(r.result as string).toContain('# helm get values');
    expect(r.redactions.map((x) => [x.pointer, x.kind])).toEqual([
      ['/db/password', 'password'],
      ['/db/host', 'policy'],
    ]);
    expect(r.unmatched).toEqual(['/nothing/here']);
  });

  it('MCP content: each text item in its own format, pointers to the item and inside it', () => {
    const content = [
      { type: 'text', text: `token ${GH} found in the log` },
      { type: 'text', text: JSON.stringify({ db: { password: PASS } }) },
      { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    ];
    const s = scanResult(content);
    expect(s.format).toBe('mcp-content');
    expect(s.findings.map((f) => [f.pointer, f.documentPointer])).toEqual([
      ['/0/text', undefined],
      ['/1/text', '/db/password'],
    ]);
    const r = redactScanned(s);
    expect(r.result).toEqual([
      { type: 'text', text: `token ${REDACTED} found in the log` },
      { type: 'text', text: JSON.stringify({ db: { password: REDACTED } }) },
      content[2],
    ]);
    expect(JSON.stringify(r)).not.toContain(GH);
  });

  it('a JSON value: the same shape back, the input untouched', () => {
    const pod = { spec: { containers: [{ env: [{ name: 'DB_PASSWORD', value: PASS }], args: [`--token=${GH}`] }] } };
    const copy = structuredClone(pod);
    const r = redactScanned(scanResult(pod));
    expect(pod).toEqual(copy);
    expect(r.result).toEqual({ spec: { containers: [{ env: [{ name: 'DB_PASSWORD', value: REDACTED }], args: [`--token=${REDACTED}`] }] } });
  });

  it('text the caller says is JSON or YAML and is not: a clear bad request', () => {
    expect(() => scanResult('{"a": ', { format: 'json' })).toThrow(BelayError);
    expect(() => scanResult('{"a": ', { format: 'json' })).toThrow(/not valid JSON/);
    expect(() => scanResult('a: [1, 2\nb: }', { format: 'yaml' })).toThrow(/not valid YAML/);
    // Without a format the same texts are plain text, redacted as such.
    expect(scanResult('{"a": ').format).toBe('text');
    expect(scanResult('text', { format: 'text' })).toMatchObject({ status: 'ok', format: 'text', value: 'text' });
  });

  it('ordinary words, hashes and API paths are not secrets', () => {
    const text = [
      'An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.',
      'annotations:',
      '  checksum/secret: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      'GET /apis/authentication.k8s.io/v1/tokenreviews 201',
      'GET /api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef 404',
      'image: quay.io/app@sha256:9b2a3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809',
    ].join('\n');
    const s = scanResult(text);
    expect(s.findings).toEqual([]);
    expect(redactScanned(s).result).toBe(text);
  });

  it('what cannot be scanned within the bounds has no redacted form', () => {
    const timedOut = scanResult(`token ${GH}\n`.repeat(2000), { timeoutMs: 0 });
    expect(timedOut).toMatchObject({ status: 'timeout', value: null, redacted: null, findings: [] });
    expect(timedOut.message).toMatch(/deadline/);
    expect(redactScanned(timedOut)).toEqual({ result: null, redactions: [], unmatched: [] });
    expect(scanResult('x'.repeat(100), { maxLength: 10 })).toMatchObject({ status: 'too-large', value: null, redacted: null });
    const deep = JSON.parse(`${'['.repeat(5000)}"${GH}"${']'.repeat(5000)}`);
    expect(scanResult(deep)).toMatchObject({ status: 'too-deep', redacted: null });
    expect(scanResult(deep).digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
