// sendReview writes what express's res.json would: same status, content type,
// length and bytes, for answers with non-ASCII text too.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdmissionResponse, envelope } from './codec.js';
import { denied, patched } from './response.js';
import { sendReview } from './send.js';

const answers: Record<string, AdmissionResponse> = {
  denied: denied('uid-1', 403, 'Pod „web“ runs as root — set runAsNonRoot ✓ [rule pss.restricted.run_as_non_root]', {
    warnings: ['belay: ⚠ privileged'],
    auditAnnotations: { decision: 'deny', revision: 'r1' },
  }),
  patched: patched('uid-2', [{ op: 'add', path: '/metadata/labels/fixed', value: 'true' }], { warnings: ['belay fixed: x'] }),
};

let server: http.Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.post('/send/:name', (req, res) => sendReview(res, answers[req.params.name]!));
  app.post('/json/:name', (req, res) => void res.json(envelope(answers[req.params.name]!)));
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function call(pathname: string): Promise<{ status: number; type: string | null; length: string | null; bytes: Buffer }> {
  const res = await fetch(`${base}${pathname}`, { method: 'POST' });
  return { status: res.status, type: res.headers.get('content-type'), length: res.headers.get('content-length'), bytes: Buffer.from(await res.arrayBuffer()) };
}

describe('sendReview', () => {
  it.each(Object.keys(answers))('answers %s exactly as res.json does', async (name) => {
    const sent = await call(`/send/${name}`);
    const json = await call(`/json/${name}`);
    expect(sent).toEqual(json);
    expect(sent.status).toBe(200);
    expect(sent.type).toBe('application/json; charset=utf-8');
    expect(Number(sent.length)).toBe(sent.bytes.byteLength);
    expect(JSON.parse(sent.bytes.toString('utf8'))).toEqual(envelope(answers[name]!));
  });
});
