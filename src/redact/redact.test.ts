import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BelayError } from '../errors.js';
import { formatPointer, parsePointer, parseResult, REDACTED, redactResult } from './index.js';

const secret = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: {
    name: 'db-credentials',
    namespace: 'prod-billing',
    annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}', team: 'billing' },
  },
  type: 'Opaque',
  data: { username: 'YWRtaW4=', password: 'aHVudGVyMg==' },
  stringData: { 'dsn.url': 'postgres://admin:hunter2@db/app' },
};

describe('redactResult', () => {
  it('replaces every Secret value and the last-applied annotation in a JSON result, keeping the rest', () => {
    const out = redactResult(parseResult(JSON.stringify(secret, null, 2)));
    expect(out.format).toBe('json');
    const v = JSON.parse(out.result as string);
    expect(v.data).toEqual({ username: REDACTED, password: REDACTED });
    expect(v.stringData).toEqual({ 'dsn.url': REDACTED });
    expect(v.metadata.annotations).toEqual({ 'kubectl.kubernetes.io/last-applied-configuration': REDACTED, team: 'billing' });
    expect(v.metadata.name).toBe('db-credentials');
    expect(out.result as string).toMatch(/^\{\n {2}"apiVersion"/);
    expect(out.redactions.map((r) => r.pointer)).toEqual([
      '/data/username',
      '/data/password',
      '/stringData/dsn.url',
      '/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration',
    ]);
  });

  it('handles a List of Secrets and Secrets nested in other structures', () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [secret, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'visible' } }] };
    const out = redactResult(parseResult({ tool: 'resources_list', output: list }));
    const v = out.result as typeof list & Record<string, never>;
    expect((v as unknown as { output: typeof list }).output.items[0]!.data).toEqual({ username: REDACTED, password: REDACTED });
    expect((v as unknown as { output: typeof list }).output.items[1]!.data).toEqual({ a: 'visible' });
  });

  it('redacts YAML in place, keeping comments, and multi-document YAML', () => {
    const yaml = [
      '# fetched by resources_get',
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: db-credentials # the one that crashed',
      'data:',
      '  password: aHVudGVyMg==',
      '---',
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: web',
      '---',
      'kind: Secret',
      'stringData:',
      '  token: abc',
      '',
    ].join('\n');
    const out = redactResult(parseResult(yaml));
    expect(out.format).toBe('yaml');
    const text = out.result as string;
    expect(text).toContain('# fetched by resources_get');
    expect(text).toContain('name: db-credentials # the one that crashed');
    expect(text).not.toContain('aHVudGVyMg==');
    expect(text).not.toContain('token: abc');
    expect(out.redactions.map((r) => r.pointer)).toEqual(['/0/data/password', '/2/stringData/token']);
    const docs = text.split(/^---$/m).map((d) => parse(d));
    expect(docs[1].metadata.name).toBe('web');
  });

  it('applies policy paths and reports those that name nothing', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app' }, data: { 'api.key': 'k-123', mode: 'fast' }, list: ['a', 'b'] };
    const out = redactResult(parseResult(JSON.stringify(cm)), { policyPaths: ['/data/api.key', '/list/1', '/nope/x', '/list/7'] });
    const v = JSON.parse(out.result as string);
    expect(v.data).toEqual({ 'api.key': REDACTED, mode: 'fast' });
    expect(v.list).toEqual(['a', REDACTED]);
    expect(out.unmatched).toEqual(['/nope/x', '/list/7']);
  });

  it('lets everything through when an approval reveals it', () => {
    const out = redactResult(parseResult(secret), { reveal: true, policyPaths: ['/type'] });
    expect(out.result).toEqual(secret);
    expect(out.redactions).toEqual([]);
  });

  it('does not change the caller’s object', () => {
    const copy = structuredClone(secret);
    redactResult(parseResult(copy));
    expect(copy).toEqual(secret);
  });

  it('refuses text that is neither JSON nor YAML, and YAML alias bombs', () => {
    const bad = (text: string, format?: 'json' | 'yaml') => {
      try {
        parseResult(text, format);
        return 'parsed';
      } catch (err) {
        return err instanceof BelayError ? err.code : String(err);
      }
    };
    expect(bad('{"a": ', 'json')).toBe('bad_request');
    expect(bad('a: [1, 2\nb: }')).toBe('bad_request');
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 9 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`,
      ),
    ].join('\n');
    expect(bad(bomb)).toBe('bad_request');
  });

  it('plain text that is not a document passes through unchanged', () => {
    const out = redactResult(parseResult('pod web-1 restarted 3 times'));
    expect(out.result).toBe('pod web-1 restarted 3 times');
  });
});

describe('pointers', () => {
  it('round-trip with ~ and / escaped', () => {
    const segs = ['metadata', 'annotations', 'a/b~c'];
    expect(parsePointer(formatPointer(segs))).toEqual(segs);
    expect(formatPointer(segs)).toBe('/metadata/annotations/a~1b~0c');
  });
});
