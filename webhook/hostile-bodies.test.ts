// Every face, fed bodies built to hurt: a compression it does not speak, a
// corrupt gzip stream, nesting far past the limit, a body of nothing but
// empty objects. Each is answered 4xx (never a 500), the gateway stays
// responsive, and a body within the limits still decides.

import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_TOKEN, type ConsoleFixture, deferringReview, request, startConsoleGateway, TOKENS } from '../src/testkit/console.js';

let f: ConsoleFixture;

beforeAll(async () => {
  f = await startConsoleGateway();
}, 60_000);

afterAll(async () => {
  await f?.close();
});

/** Every route that reads a JSON body, with the token it needs. */
const ROUTES: { path: string; token?: string }[] = [
  { path: '/validate' },
  { path: '/mutate' },
  { path: '/authorize' },
  { path: '/mutate-approval' },
  { path: '/validate-approval' },
  { path: '/v1/tool-calls:evaluate', token: AGENT_TOKEN },
  { path: '/v1/tool-results:redact', token: AGENT_TOKEN },
  { path: '/v1/prompts:check', token: AGENT_TOKEN },
  { path: '/console/api/approvals/belay/belay-0123456789abcdef0123/decision', token: TOKENS.alice },
];

const nested = (depth: number) => `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`;

const BODIES: { name: string; raw: Buffer | string; headers?: Record<string, string>; status: number[]; message: RegExp }[] = [
  { name: 'a brotli body', raw: Buffer.from('not really brotli'), headers: { 'content-encoding': 'br' }, status: [415], message: /Content-Encoding "br"/ },
  {
    name: 'a corrupt gzip body',
    raw: Buffer.concat([gzipSync(Buffer.from('{"a": 1}')).subarray(0, 12), Buffer.from('garbage garbage')]),
    headers: { 'content-encoding': 'gzip' },
    status: [400],
    message: /gzip body cannot be decoded/,
  },
  // Past /authorize's 64 KiB limit the size is refused first.
  { name: 'nesting 100,000 deep', raw: nested(100_000), status: [400, 413], message: /nests deeper than 512 levels|exceeds the 65536 byte limit/ },
  { name: 'nesting 4,000 deep', raw: nested(4_000), status: [400], message: /nests deeper than 512 levels/ },
  {
    name: '300,000 empty objects',
    raw: `[${Array(300)
      .fill(`[${Array(1000).fill('{}').join(',')}]`)
      .join(',')}]`,
    status: [413],
    message: /more than 150000 objects and arrays|exceeds the \d+ byte limit/,
  },
  {
    name: 'an array of 200,000 numbers',
    raw: `[${Array(200_000).fill('0').join(',')}]`,
    status: [413],
    message: /more than 50000 members|exceeds the \d+ byte limit/,
  },
  {
    name: 'a gzip bomb',
    raw: gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20)),
    headers: { 'content-encoding': 'gzip' },
    status: [413],
    message: /exceeds the \d+ byte limit/,
  },
  { name: 'a latin-1 charset', raw: '{}', headers: { 'content-type': 'application/json; charset=latin1' }, status: [415], message: /charset "latin1"/ },
  { name: 'a bare JSON string', raw: '"hello"', status: [400], message: /must be a JSON object/ },
  { name: 'truncated JSON', raw: '{"apiVersion": "admission.k8s.io/v1", "kind": "Adm', status: [400], message: /not valid JSON/ },
];

describe('hostile bodies on every face', () => {
  for (const body of BODIES) {
    it(`answers ${body.name} with ${body.status.join(' or ')} on every face`, async () => {
      for (const route of ROUTES) {
        const r = await request(f, 'POST', route.path, {
          raw: body.raw,
          ...(route.token ? { token: route.token } : {}),
          headers: { 'content-type': 'application/json', ...body.headers },
        });
        expect(body.status, `${route.path} answered ${r.status}: ${r.text.slice(0, 200)}`).toContain(r.status);
        expect(r.body?.error?.message, route.path).toMatch(body.message);
      }
      // Still serving, and still deciding.
      const ok = await request(f, 'POST', '/validate', { body: deferringReview('after-hostile', { labels: { 'test/decision': 'allow' } }) });
      expect(ok.status).toBe(200);
    }, 120_000);
  }

  it('reads gzip and deflate bodies that are well formed', async () => {
    const review = deferringReview('gz-1', { labels: { 'test/decision': 'allow' } });
    const r = await request(f, 'POST', '/validate', { raw: gzipSync(Buffer.from(JSON.stringify(review))), headers: { 'content-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.body.response).toMatchObject({ uid: 'gz-1', allowed: true });
  });

  it('accepts nesting at the limit (512) and decides', async () => {
    const review = deferringReview('deep-ok', { labels: { 'test/decision': 'allow' } });
    let deep: unknown = 'bottom';
    // The review itself nests 5 levels down to the object's annotations value; the rest is ours.
    for (let i = 0; i < 512 - 6; i++) deep = [deep];
    (review.request.object.metadata as Record<string, unknown>).extra = deep;
    const r = await request(f, 'POST', '/validate', { body: review });
    expect(r.status).toBe(200);
    expect(r.body.response).toMatchObject({ uid: 'deep-ok', allowed: true });
  });
});
