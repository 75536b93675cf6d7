// Test support: a fetch for the SDK's streamable HTTP client that trusts a
// given CA (Node's built-in fetch takes no CA per request), streaming the
// response body so server-sent events arrive as they are sent.

import https from 'node:https';
import { Readable } from 'node:stream';

type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

const NULL_BODY = new Set([101, 204, 205, 304]);

export function fetchTrusting(ca: Buffer): FetchLike {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((v, k) => {
        headers[k] = v;
      });
      const req = https.request(new URL(url), { method: init?.method ?? 'GET', ca, headers }, (res) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
        const status = res.statusCode ?? 0;
        const body = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        if (!body) res.resume();
        resolve(new Response(body, { status, headers: h }));
      });
      init?.signal?.addEventListener('abort', () => req.destroy(new Error('aborted')), { once: true });
      req.on('error', reject);
      const b = init?.body;
      req.end(typeof b === 'string' || b instanceof Uint8Array ? b : undefined);
    });
}
