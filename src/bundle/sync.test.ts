// Bundle sources feeding the store: a watched directory, a watched file and
// an HTTP bundle server with ETags; bad bundles are refused while the last
// good one keeps serving.

import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle, writeTree } from '../testkit/opa-bundle.js';
import { PolicyStore } from './active.js';
import { readArchive } from './archive.js';
import { httpSource, nextDelay } from './http.js';
import { signArchive } from './sign.js';
import { BundleSync } from './sync.js';
import { verificationConfig } from './verify.js';
import { watchSource } from './watch.js';

const policy = (answer: string) => `package belay.admission\nimport rego.v1\ndecision := {"decision": "${answer}", "reasons": []}\n`;
const bundles: Record<string, Buffer> = {};
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signing = { key: keys.privateKey, algorithm: 'ES256' as const, keyId: 'ci' };
const verification = verificationConfig([{ id: 'ci', algorithm: 'ES256', key: keys.publicKey }]);

beforeAll(() => {
  for (const rev of ['r1', 'r2', 'r3']) bundles[rev] = buildBundle(writeTree({ 'p.rego': policy(rev === 'r2' ? 'deny' : 'allow') }), { revision: rev });
});

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function start(store: PolicyStore, source: ReturnType<typeof watchSource>, withKeys = false): BundleSync {
  const sync = new BundleSync({ store, source, verification: withKeys ? verification : null });
  stops.push(() => sync.stop());
  return sync;
}

/** Writes a file by rename, as a careful publisher does. */
function publish(file: string, bytes: Buffer): void {
  writeFileSync(`${file}.tmp`, bytes);
  renameSync(`${file}.tmp`, file);
}

describe('watched directory', () => {
  it('activates the archive in it, swaps in a new one, refuses a corrupt one and keeps the last good', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-watch-'));
    publish(path.join(dir, 'bundle.tar.gz'), bundles.r1!);
    const store = new PolicyStore();
    const sync = start(store, watchSource(dir, { debounceMs: 20, pollMs: 200 }));
    await sync.start();
    expect(store.current()?.revision).toBe('r1');

    publish(path.join(dir, 'bundle.tar.gz'), bundles.r2!);
    await until(() => store.current()?.revision === 'r2', 'r2');

    publish(path.join(dir, 'bundle.tar.gz'), Buffer.from('not a bundle'));
    await until(() => store.lastFailure !== undefined, 'the refusal');
    expect(store.lastFailure!.message).toMatch(/bundle archive is not a gzip file/);
    expect(store.current()?.revision).toBe('r2');
    expect(sync.status).toMatchObject({ activated: 2, refused: 1 });

    publish(path.join(dir, 'bundle.tar.gz'), bundles.r3!);
    await until(() => store.current()?.revision === 'r3', 'r3');
    expect(store.lastFailure).toBeUndefined();
  });

  it('clears the refusal when the source serves the active bundle again (the same bytes)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-watch-'));
    publish(path.join(dir, 'bundle.tar.gz'), bundles.r1!);
    const store = new PolicyStore();
    const events: string[] = [];
    store.onChange((e) => events.push(Object.keys(e)[0]!));
    const sync = start(store, watchSource(dir, { debounceMs: 20, pollMs: 200 }));
    await sync.start();
    publish(path.join(dir, 'bundle.tar.gz'), Buffer.from('not a bundle'));
    await until(() => store.lastFailure !== undefined, 'the refusal');
    publish(path.join(dir, 'bundle.tar.gz'), bundles.r1!);
    await until(() => store.lastFailure === undefined, 'the refusal to clear');
    expect(store.current()?.revision).toBe('r1');
    expect(events).toEqual(['active', 'failure', 'recovered']);
  });

  it('serves an unpacked bundle (a ConfigMap volume) and follows the ..data symlink swap', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'belay-cm-'));
    const unpack = async (rev: string, into: string) => {
      mkdirSync(into, { recursive: true });
      for (const [name, bytes] of await readArchive(bundles[rev]!)) {
        mkdirSync(path.dirname(path.join(into, name)), { recursive: true });
        writeFileSync(path.join(into, name), bytes);
      }
    };
    // The kubelet's layout: ..<timestamp>/files, ..data -> ..<timestamp>, and top-level symlinks into ..data.
    await unpack('r1', path.join(root, '..v1'));
    const { symlinkSync } = await import('node:fs');
    symlinkSync('..v1', path.join(root, '..data'));
    for (const f of ['.manifest', 'policy.wasm', 'data.json']) symlinkSync(path.join('..data', f), path.join(root, f));
    const store = new PolicyStore();
    await start(store, watchSource(root, { debounceMs: 20, pollMs: 200 })).start();
    expect(store.current()?.revision).toBe('r1');

    await unpack('r2', path.join(root, '..v2'));
    symlinkSync('..v2', path.join(root, '..data_tmp'));
    renameSync(path.join(root, '..data_tmp'), path.join(root, '..data'));
    rmSync(path.join(root, '..v1'), { recursive: true });
    await until(() => store.current()?.revision === 'r2', 'r2 through ..data');
  });

  it('with keys set, refuses an unsigned or tampered bundle and keeps the signed one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'belay-signed-'));
    const file = path.join(dir, 'bundle.tar.gz');
    publish(file, await signArchive(bundles.r1!, signing));
    const store = new PolicyStore();
    const sync = start(store, watchSource(file, { debounceMs: 20, pollMs: 200 }), true);
    await sync.start();
    expect(store.current()?.revision).toBe('r1');
    expect(sync.status.signature).toMatchObject({ keyId: 'ci', algorithm: 'ES256' });

    publish(file, bundles.r2!);
    await until(() => store.lastFailure !== undefined, 'unsigned refusal');
    expect(store.lastFailure!.message).toBe('bundle signature: the bundle is not signed (no .signatures.json) but verification keys are configured');
    expect(store.current()?.revision).toBe('r1');

    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    publish(file, await signArchive(bundles.r2!, { ...signing, key: other.privateKey }));
    await until(() => /does not verify/.test(store.lastFailure?.message ?? ''), 'wrong-key refusal');
    expect(store.current()?.revision).toBe('r1');

    publish(file, await signArchive(bundles.r2!, signing));
    await until(() => store.current()?.revision === 'r2', 'signed r2');
  });
});

describe('HTTP bundle server', () => {
  interface Served {
    body: Buffer | null;
    etag: string;
    status?: number;
  }
  function server(served: Served) {
    const seen: { ifNoneMatch: string | undefined; auth: string | undefined }[] = [];
    const srv = http.createServer((req, res) => {
      seen.push({ ifNoneMatch: req.headers['if-none-match'], auth: req.headers.authorization });
      if (served.status) {
        res.writeHead(served.status).end('bundle store down');
        return;
      }
      if (req.headers['if-none-match'] === served.etag) {
        res.writeHead(304).end();
        return;
      }
      res.writeHead(200, { etag: served.etag, 'content-type': 'application/gzip' }).end(served.body);
    });
    return new Promise<{ url: string; seen: typeof seen }>((resolve) =>
      srv.listen(0, '127.0.0.1', () => {
        stops.push(() => new Promise((r) => srv.close(() => r())));
        resolve({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}/bundles/belay.tar.gz`, seen });
      }),
    );
  }

  it('polls with If-None-Match, swaps on a new ETag, records a failing server and keeps serving', async () => {
    const served: Served = { body: bundles.r1!, etag: '"r1"' };
    const { url, seen } = await server(served);
    const tokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'belay-tok-')), 'token');
    writeFileSync(tokenFile, 'tok-1\n');
    const store = new PolicyStore();
    const sync = new BundleSync({ store, source: httpSource(url, { minDelayMs: 30, maxDelayMs: 40, tokenFile }) });
    stops.push(() => sync.stop());
    await sync.start();
    expect(store.current()?.revision).toBe('r1');
    await until(() => seen.length >= 3, 'polls');
    expect(seen[0]).toEqual({ ifNoneMatch: undefined, auth: 'Bearer tok-1' });
    expect(seen[1]!.ifNoneMatch).toBe('"r1"');
    expect(sync.status.updates).toBe(1); // 304s deliver nothing

    Object.assign(served, { body: bundles.r2!, etag: '"r2"' });
    await until(() => store.current()?.revision === 'r2', 'r2');

    served.status = 503;
    await until(() => store.lastFailure !== undefined, 'the failure');
    expect(store.lastFailure!.message).toMatch(/bundle server answered 503 for http:\/\/127\.0\.0\.1:\d+\/bundles\/belay\.tar\.gz: bundle store down/);
    expect(store.current()?.revision).toBe('r2');
  });

  it('backs off after failures, jittered, capped at the maximum', () => {
    expect(nextDelay(1000, 5000, 0, () => 0)).toBe(1000);
    expect(nextDelay(1000, 5000, 0, () => 1)).toBe(5000);
    expect(nextDelay(1000, 5000, 2, () => 1)).toBe(4000);
    expect(nextDelay(1000, 5000, 10, () => 1)).toBe(5000);
    expect(nextDelay(1000, 5000, 10, () => 0)).toBe(2500);
  });
});
