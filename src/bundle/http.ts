// An HTTP bundle server polled as OPA's bundle plugin does
// (plugins/bundle, download package): GET the bundle with If-None-Match set
// to the last ETag; 304 means unchanged, 200 brings a new bundle. Polls are
// jittered between a minimum and maximum delay; after a failure the delay
// backs off exponentially up to the maximum.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { BelayError } from '../errors.js';
import type { BundleSource, BundleUpdate } from './source.js';

export interface HttpSourceOptions {
  /** Shortest wait between polls (ms); OPA's min_delay_seconds. */
  minDelayMs?: number;
  /** Longest wait between polls, and the backoff ceiling (ms). */
  maxDelayMs?: number;
  /** Give up on one request after this long (ms). */
  timeoutMs?: number;
  /** Largest response body accepted (bytes); a bigger one is cut off and refused. */
  maxBytes?: number;
  /** PEM file of the CA that signed the server's certificate (https). */
  caFile?: string;
  /** File holding a bearer token, read on every request so a rotated token is picked up. */
  tokenFile?: string;
  headers?: Record<string, string>;
  /** For tests: the random source of jitter. */
  random?: () => number;
}

interface Fetched {
  status: number;
  etag?: string;
  body: Buffer;
}

/** The delay before poll n: jittered in [min, max]; after `failures` failures, min·2^failures capped at max. */
export function nextDelay(minMs: number, maxMs: number, failures: number, random: () => number = Math.random): number {
  if (failures > 0) {
    const backoff = Math.min(maxMs, minMs * 2 ** Math.min(failures, 20));
    return Math.round(backoff * (0.5 + random() / 2));
  }
  return Math.round(minMs + (maxMs - minMs) * random());
}

export function httpSource(url: string, options: HttpSourceOptions = {}): BundleSource {
  const { minDelayMs = 10_000, maxDelayMs = 30_000, timeoutMs = 30_000, maxBytes = 64 * 1024 * 1024, random = Math.random } = options;
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new BelayError('bad_request', `bundle URL must be http or https, got ${url}`);
  const ca = options.caFile ? readFileSync(options.caFile) : undefined;
  let etag: string | undefined;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let inflight: http.ClientRequest | undefined;
  let stopped = false;
  let cycle: Promise<void> = Promise.resolve();

  function fetchOnce(): Promise<Fetched> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/gzip, application/octet-stream', ...(options.headers ?? {}) };
      if (etag) headers['if-none-match'] = etag;
      if (options.tokenFile) headers.authorization = `Bearer ${readFileSync(options.tokenFile, 'utf8').trim()}`;
      const client = parsed.protocol === 'https:' ? https : http;
      const req = client.request(parsed, { method: 'GET', headers, timeout: timeoutMs, ...(ca ? { ca } : {}) }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy(new Error(`the response exceeds the ${maxBytes} byte limit`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          const tag = res.headers.etag;
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ...(typeof tag === 'string' ? { etag: tag } : {}) });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      inflight = req;
      req.end();
    });
  }

  async function poll(deliver: (u: BundleUpdate) => Promise<void>): Promise<void> {
    let update: BundleUpdate | null = null;
    try {
      const res = await fetchOnce();
      if (res.status === 304) {
        failures = 0;
      } else if (res.status === 200) {
        failures = 0;
        // As OPA: the ETag is kept even if the bundle is then refused, so a bad bundle is not fetched again until it changes.
        etag = res.etag;
        update = { origin: url, archive: res.body, ...(res.etag ? { etag: res.etag } : {}) };
      } else {
        failures++;
        const text = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).trim();
        update = { origin: url, error: new BelayError('bundle_invalid', `bundle server answered ${res.status} for ${url}${text ? `: ${text}` : ''}`) };
      }
    } catch (err) {
      failures++;
      update = { origin: url, error: new BelayError('bundle_invalid', `cannot download bundle ${url}: ${(err as Error).message}`, { cause: err }) };
    }
    if (update && !stopped) await deliver(update);
  }

  return {
    description: url,
    async start(deliver) {
      const loop = (): void => {
        if (stopped) return;
        timer = setTimeout(
          () => {
            cycle = poll(deliver).finally(loop);
          },
          nextDelay(minDelayMs, maxDelayMs, failures, random),
        );
        timer.unref();
      };
      cycle = poll(deliver);
      await cycle;
      loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      inflight?.destroy();
      await cycle.catch(() => undefined);
    },
  };
}
