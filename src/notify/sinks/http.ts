// One HTTP POST for the HTTP sinks (webhook, Slack, Teams): node's own
// client, so a sink's CA can be given; bounded by the delivery's abort
// signal; the answer's body read up to a cap (sinks answer in a few bytes);
// and the status mapped to what the outbox does next.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { DeliveryError } from './sink.js';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface PostOptions {
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  caFile?: string | undefined;
}

const MAX_ANSWER = 64 * 1024;
const USER_AGENT = 'belay-notify/1';

export function post(url: string, { headers, body, signal, caFile }: PostOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new DeliveryError('transient', 'timed out'));
    const u = new URL(url);
    const client = u.protocol === 'https:' ? https : http;
    const req = client.request(
      u,
      {
        method: 'POST',
        headers: { 'User-Agent': USER_AGENT, 'Content-Length': String(Buffer.byteLength(body)), ...headers },
        ...(u.protocol === 'https:' && caFile ? { ca: readFileSync(caFile) } : {}),
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_ANSWER) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER) }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => reject(signal.aborted ? new DeliveryError('transient', 'timed out') : err));
    req.end(body);
  });
}

/**
 * A non-2xx answer as the failure it is. 400/413/422: this message is
 * refused (permanent); 401/403/404/410: the hook or credential is wrong
 * (misconfigured); the rest, with 408 and 429, may pass later (transient).
 * `what` names the sink's own words for the body (Slack: invalid_payload).
 */
export function failureOf(a: HttpAnswer): DeliveryError {
  const said = a.body.trim().replace(/\s+/g, ' ').slice(0, 200);
  const message = `HTTP ${a.status}${said ? `: ${said}` : ''}`;
  if (a.status === 400 || a.status === 413 || a.status === 422) return new DeliveryError('permanent', message);
  if (a.status === 401 || a.status === 403 || a.status === 404 || a.status === 410) return new DeliveryError('misconfigured', message);
  return new DeliveryError('transient', message, retryAfter(a.headers['retry-after']));
}

/** Retry-After in seconds or as an HTTP date, in milliseconds; capped at an hour. */
export function retryAfter(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const secs = Number(s);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(s) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, 3_600_000) : undefined;
}

export function ok(status: number): boolean {
  return status >= 200 && status < 300;
}
