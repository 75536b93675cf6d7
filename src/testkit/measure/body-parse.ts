// What reading a body costs, measured: `npx tsx src/testkit/measure/body-parse.ts`.
//
// 1. The shape scan (src/util/json-shape.ts) alone, in µs per MiB, over 8 MiB
//    bodies of several shapes cut into 64 KiB chunks as sockets deliver them,
//    with the longest single chunk; beside it JSON.parse of the same bytes.
// 2. A gateway (in this process, local mode, the default bundle) sent 8 MiB
//    hostile bodies — four at once, as in issue 12 — while /healthz is polled:
//    the longest /healthz answer, the event loop's longest stall, and the
//    process's peak RSS over its resting RSS.
// MEASURE_SHAPES=<prefix,…> measures only some shapes. Prints a table;
// figures move with the machine's load (printed too).

import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startGateway } from '../../../webhook/gateway.js';
import { silentLogger } from '../../observe/log.js';
import { DEFAULT_JSON_SHAPE, JsonShapeError, JsonShapeScanner } from '../../util/json-shape.js';

const MiB = 1024 * 1024;
const SIZE = 8 * MiB - 1024;
const CHUNK = 64 * 1024;

/** Bodies of `SIZE` bytes, each a different way of making JSON.parse work hard. */
const SHAPES: Record<string, () => string> = {
  'a Deployment with long strings (plain)': () => {
    const env = Array.from({ length: 2000 }, (_, i) => ({ name: `VAR_${i}`, value: 'x'.repeat(3900) }));
    const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'c', env }] } } } };
    return pad(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object: obj } }));
  },
  'an UPDATE of a 1.5 MiB Deployment of small env entries (object and oldObject)': () => {
    const env = Array.from({ length: 36_000 }, (_, i) => ({ name: `V${i}`, value: String(i) }));
    const obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'c', env }] } } } };
    return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { object: obj, oldObject: obj } });
  },
  'nested [ 4 million deep': () => `${'['.repeat(SIZE / 2)}${']'.repeat(SIZE / 2)}`,
  '[] objects, 2.8 million': () =>
    `[${Array(Math.floor(SIZE / 3))
      .fill('{}')
      .join(',')}]`,
  'numbers, 4 million': () =>
    `[${Array(Math.floor(SIZE / 2))
      .fill('0')
      .join(',')}]`,
  'keys of one object, 1 million': () => {
    const parts: string[] = [];
    let n = 2;
    for (let i = 0; n < SIZE - 16; i++) {
      const p = `"${i.toString(36)}":0`;
      parts.push(p);
      n += p.length + 1;
    }
    return `{${parts.join(',')}}`;
  },
  'the largest allowed: 150k containers at depth 500': () => {
    const unit = `${'['.repeat(500)}${']'.repeat(500)}`;
    return `[${Array(Math.floor(DEFAULT_JSON_SHAPE.maxContainers / 500) - 1)
      .fill(unit)
      .join(',')}]`;
  },
  'the largest allowed: 1 million numbers in groups': () => {
    const group = `[${Array(DEFAULT_JSON_SHAPE.maxContainerMembers - 1)
      .fill('0')
      .join(',')}]`;
    return `[${Array(Math.floor(DEFAULT_JSON_SHAPE.maxMembers / DEFAULT_JSON_SHAPE.maxContainerMembers) - 1)
      .fill(group)
      .join(',')}]`;
  },
  'the largest allowed: one object of 50,000 keys': () => {
    const keys = Array.from({ length: DEFAULT_JSON_SHAPE.maxContainerMembers - 1 }, (_, i) => `"k${i.toString(36)}":0`);
    return `{${keys.join(',')}}`;
  },
};

/** The shapes to measure: all, or those whose names MEASURE_SHAPES lists (comma-separated prefixes). */
function chosen(): [string, () => string][] {
  const only = process.env.MEASURE_SHAPES?.split(',').filter(Boolean);
  return Object.entries(SHAPES).filter(([name]) => !only || only.some((o) => name.startsWith(o)));
}

function pad(json: string): string {
  return json.length >= SIZE ? json : json.replace(/}$/, `,"pad":"${'p'.repeat(SIZE - json.length - 9)}"}`);
}

function scan(bytes: Buffer): { ms: number; longestChunkMs: number; refused: string | null } {
  const scanner = new JsonShapeScanner();
  let longest = 0;
  const t0 = process.hrtime.bigint();
  try {
    for (let i = 0; i < bytes.length; i += CHUNK) {
      const t = process.hrtime.bigint();
      scanner.push(bytes.subarray(i, i + CHUNK));
      longest = Math.max(longest, Number(process.hrtime.bigint() - t) / 1e6);
    }
  } catch (err) {
    if (!(err instanceof JsonShapeError)) throw err;
    return { ms: Number(process.hrtime.bigint() - t0) / 1e6, longestChunkMs: longest, refused: err.kind };
  }
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, longestChunkMs: longest, refused: null };
}

function parseMs(text: string): { ms: number; heapMiB: number } {
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  const t = process.hrtime.bigint();
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = null;
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const heapMiB = (process.memoryUsage().heapUsed - before) / MiB;
  if (v === undefined) throw new Error('unreachable');
  return { ms, heapMiB };
}

function post(url: string, ca: Buffer, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/validate`, { method: 'POST', ca, headers: { 'content-type': 'application/json' }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function healthz(url: string, ca: Buffer): Promise<number> {
  const t = Date.now();
  await new Promise<void>((resolve, reject) => {
    https
      .get(`${url}/healthz`, { ca }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      })
      .on('error', reject);
  });
  return Date.now() - t;
}

async function main(): Promise<void> {
  const out: string[] = [
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
    '',
  ];
  out.push(
    '| body (8 MiB) | scan µs/MiB | longest 64 KiB chunk ms | scan answer | JSON.parse ms (unguarded) | JSON.parse heap MiB |',
    '|---|---:|---:|---|---:|---:|',
  );
  const bodies: Record<string, Buffer> = {};
  for (const [name, make] of chosen()) {
    const text = make();
    const bytes = Buffer.from(text);
    bodies[name] = bytes;
    // The machine is shared: the least of several runs is the cost, the rest is waiting for a core.
    const runs = Array.from({ length: 15 }, () => scan(bytes));
    const s = { ...runs[0]!, ms: Math.min(...runs.map((r) => r.ms)), longestChunkMs: Math.min(...runs.map((r) => r.longestChunkMs)) };
    const parses = Array.from({ length: 5 }, () => parseMs(text));
    const p = { ms: Math.min(...parses.map((r) => r.ms)), heapMiB: Math.max(...parses.map((r) => r.heapMiB)) };
    out.push(
      `| ${name} | ${((s.ms * 1000) / (bytes.length / MiB)).toFixed(0)} | ${s.longestChunkMs.toFixed(2)} | ${s.refused ? `refused (${s.refused}) after ${s.ms.toFixed(1)} ms` : 'parsed'} | ${p.ms.toFixed(0)} | ${p.heapMiB.toFixed(0)} |`,
    );
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'belay-measure-'));
  const gateway = await startGateway({
    host: '127.0.0.1',
    port: 0,
    bundle: { file: path.resolve('.build/bundle.tar.gz') },
    tlsDir: path.join(dir, 'tls'),
    approvals: { stateDir: path.join(dir, 'state') },
    log: silentLogger,
  });
  const ca = readFileSync(gateway.caFile);
  out.push(
    '',
    '| four at once, over HTTPS | statuses | longest /healthz ms | longest event-loop stall ms | peak RSS over resting MiB |',
    '|---|---|---:|---:|---:|',
  );
  for (const [name] of chosen()) {
    const rounds: string[][] = [];
    for (let round = 0; round < 3; round++) rounds.push(await fourAtOnce(gateway.url, ca, bodies[name]!));
    // The middle round by stall.
    const [statuses, health, stall, rss] = rounds.sort((a, b) => Number(a[2]) - Number(b[2]))[1]!;
    out.push(`| ${name} | ${statuses} | ${health} | ${stall} | ${rss} |`);
  }
  await gateway.close();
  process.stdout.write(`${out.join('\n')}\n`);
}

/** Four posts of `body` at once while /healthz is polled: statuses, longest /healthz, longest stall, peak RSS over resting. */
async function fourAtOnce(url: string, ca: Buffer, body: Buffer): Promise<string[]> {
  {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 200));
    const resting = process.memoryUsage().rss;
    let peak = resting;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    let longest = 0;
    let done = false;
    const poller = (async () => {
      while (!done) longest = Math.max(longest, await healthz(url, ca));
    })();
    const statuses = await Promise.all(Array.from({ length: 4 }, () => post(url, ca, body)));
    done = true;
    await poller;
    loop.disable();
    clearInterval(sampler);
    return [[...new Set(statuses)].join(', '), String(longest), (loop.max / 1e6).toFixed(0), ((peak - resting) / MiB).toFixed(0)];
  }
}

await main();
