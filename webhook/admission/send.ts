// Puts an AdmissionReview answer on the wire: one JSON.stringify and one
// write, with the headers express's res.json would set. (res.json also works
// out ETags, request freshness and charsets, which a webhook answer never
// needs; that costs the event loop a few µs on every request.)

import type { Response } from 'express';
import { type AdmissionResponse, envelope } from './codec.js';

export function sendReview(res: Response, response: AdmissionResponse): void {
  const body = Buffer.from(JSON.stringify(envelope(response)));
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.byteLength });
  res.end(body);
}
