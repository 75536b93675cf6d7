import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadCorpus } from '../scan/corpus/corpus.js';
import { canonicalDigest, REDACTED, recordValue, redactContent } from './index.js';

const GH = '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';
const PASS = 'Harbor4821!kube';

describe('redactContent', () => {
  it('plain text: exactly the secret spans, the rest unchanged', () => {
    const text = `pod web-1 restarted\nconnecting to postgres://app:${PASS}@db:5432/app\nusing ${GH} for git`;
    const r = redactContent(text);
    expect(r).toMatchObject({ status: 'ok', format: 'text' });
    expect(r.value).toBe(`pod web-1 restarted\nconnecting to postgres://app:${REDACTED}@db:5432/app\nusing ${REDACTED} for git`);
    expect(r.findings.map((f) => [f.pointer, text.slice(f.start, f.end)])).toEqual([
      ['', PASS],
      ['', GH],
    ]);
  });

  it('a JSON value: same shape, secrets replaced, pointers to them; the input is not changed', () => {
    const pod = {
      spec: {
        containers: [
          {
            env: [
              { name: 'DB_PASSWORD', value: PASS },
              { name: 'MODE', value: 'fast' },
            ],
            args: [`--token=${GH}`],
          },
        ],
      },
    };
    const copy = structuredClone(pod);
    const r = redactContent(pod);
    expect(r.status).toBe('ok');
    expect(pod).toEqual(copy);
    const v = r.value as typeof pod;
    expect(v.spec.containers[0]!.env).toEqual([
      { name: 'DB_PASSWORD', value: REDACTED },
      { name: 'MODE', value: 'fast' },
    ]);
    expect(v.spec.containers[0]!.args).toEqual([`--token=${REDACTED}`]);
    expect(r.findings.map((f) => f.pointer).sort()).toEqual(['/spec/containers/0/args/0', '/spec/containers/0/env/0/value']);
  });

  it('JSON text: untouched when clean, the same document with secrets replaced otherwise', () => {
    const clean = '{\n    "a": 1,\n    "b": "x"\n}';
    expect(redactContent(clean).value).toBe(clean);
    const text = JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from(`bot:${PASS}`).toString('base64') } }, n: 1 }, null, 4);
    const r = redactContent(text);
    expect(r.format).toBe('json');
    expect(JSON.parse(r.value as string)).toEqual({ auths: { 'ghcr.io': { auth: REDACTED } }, n: 1 });
    expect(r.value as string).toMatch(/^\{\n {4}"auths"/);
    expect(r.findings[0]).toMatchObject({ pointer: '', documentPointer: '/auths/ghcr.io/auth' });
  });

  it('YAML text: structure, comments and layout kept; multi-document pointers', () => {
    const yaml = [
      '# from helm get values',
      'postgresql:',
      '  auth:',
      `    password: ${PASS}   # set by ops`,
      '    username: app',
      '---',
      'kind: Secret',
      'apiVersion: v1',
      'data:',
      '  tls.key: |',
      '    LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t',
      'metadata: {name: tls}',
      '',
    ].join('\n');
    const r = redactContent(yaml);
    expect(r.format).toBe('yaml');
    const out = r.value as string;
    expect(out).toContain('# from helm get values');
    expect(out).toContain(`password: "${REDACTED}"   # set by ops`);
    expect(out).not.toContain(PASS);
    const docs = parseAllDocuments(out).map((d) => d.toJS());
    expect(docs[0]).toEqual({ postgresql: { auth: { password: REDACTED, username: 'app' } } });
    expect(docs[1]).toEqual({ kind: 'Secret', apiVersion: 'v1', data: { 'tls.key': REDACTED }, metadata: { name: 'tls' } });
    expect(r.findings.map((f) => f.documentPointer)).toEqual(['/0/postgresql/auth/password', '/1/data/tls.key']);
  });

  it('MCP content: text items by their own format, resources, images untouched', () => {
    const content = [
      { type: 'text', text: `export GITHUB_TOKEN=${GH}` },
      { type: 'resource', resource: { uri: 'file:///etc/app.yaml', mimeType: 'text/yaml', text: `db:\n  password: ${PASS}\n` } },
      { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    ];
    const r = redactContent(content);
    expect(r.format).toBe('mcp-content');
    expect(r.value).toEqual([
      { type: 'text', text: `export GITHUB_TOKEN=${REDACTED}` },
      { type: 'resource', resource: { uri: 'file:///etc/app.yaml', mimeType: 'text/yaml', text: `db:\n  password: "${REDACTED}"\n` } },
      { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' },
    ]);
    expect(r.findings.map((f) => f.pointer)).toEqual(['/0/text', '/1/resource/text']);
  });

  it('leaves no labelled corpus secret in any document, read in its own format', () => {
    for (const doc of loadCorpus()) {
      const r = redactContent(doc.text);
      expect(r.status, doc.file).toBe('ok');
      for (const l of doc.labels) {
        const secret = doc.text.slice(l.start, l.end);
        for (const part of secret.split(/\n|\\n/).filter((p) => p.length >= 12 && !/^-----/.test(p))) {
          expect((r.value as string).includes(part), `${doc.file}:${l.line} ${l.type}`).toBe(false);
        }
      }
      if (r.format === 'yaml') expect(() => parseAllDocuments(r.value as string)).not.toThrow();
      if (r.format === 'json') expect(() => JSON.parse(r.value as string)).not.toThrow();
    }
  });
});

describe('recordValue', () => {
  it('keeps a digest of the value as received and its redacted form', () => {
    const r = recordValue({ b: 1, a: { password: PASS } });
    expect(r).toMatchObject({ status: 'ok', truncated: false, redacted: { b: 1, a: { password: REDACTED } } });
    expect(r.digest).toBe(canonicalDigest({ a: { password: PASS }, b: 1 }));
    expect(r.digest).not.toBe(canonicalDigest({ a: { password: 'other' }, b: 1 }));
    expect(JSON.stringify(r)).not.toContain(PASS);
    expect(r.redactions).toEqual([{ pointer: '/a/password', kind: 'password', rule: 'belay/keyed-value', description: 'the value of "password", a password' }]);
  });

  it('cuts the redacted form at the byte cap, never keeping what was redacted', () => {
    const r = recordValue(`${'é'.repeat(50)} token ${GH} ${'x'.repeat(500)}`, { maxBytes: 120 });
    expect(r.truncated).toBe(true);
    expect(Buffer.byteLength(r.redacted as string)).toBeLessThanOrEqual(120);
    expect(r.redacted as string).toContain(REDACTED);
    expect(JSON.stringify(r)).not.toContain('ghp_');
  });

  it('keeps only the digest of what it cannot scan', () => {
    const deep = JSON.parse(`${'['.repeat(5000)}"${GH}"${']'.repeat(5000)}`);
    expect(recordValue(deep)).toMatchObject({ status: 'too-deep', redacted: null });
    expect(recordValue('x'.repeat(1000), { maxLength: 10 })).toMatchObject({ status: 'too-large', redacted: null });
    expect(recordValue(`token ${GH}`, { deadline: performance.now() - 1 })).toMatchObject({ status: 'timeout', redacted: null });
    expect(recordValue(deep).digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('digests like approvals canonical JSON: sorted keys, undefined members left out', () => {
    expect(canonicalDigest({ b: [1, 'x', null], a: undefined, c: { z: true, y: 1.5 } })).toBe(
      `sha256:${createHash('sha256').update('{"b":[1,"x",null],"c":{"y":1.5,"z":true}}').digest('hex')}`,
    );
  });
});
