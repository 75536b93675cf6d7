// A decision-log service for tests: an HTTP server on 127.0.0.1 that takes
// OPA decision-log batches (gzip JSON arrays) and keeps every event it
// accepted; `status` decides each answer (an outage is a 503, or close()).

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { OpaDecisionEvent } from '../observe/ship.js';

/** A decision-log service: records every event it takes; `status` decides the answer. */
export class LogSink {
  readonly events: OpaDecisionEvent[] = [];
  readonly requests: { path: string; encoding: string | undefined; type: string | undefined; auth: string | undefined; raw: string }[] = [];
  status: (events: OpaDecisionEvent[]) => number = () => 200;
  #server: http.Server;
  port = 0;

  constructor() {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = gunzipSync(Buffer.concat(chunks)).toString('utf8');
        const batch = JSON.parse(raw) as OpaDecisionEvent[];
        this.requests.push({
          path: req.url ?? '',
          encoding: req.headers['content-encoding'],
          type: req.headers['content-type'],
          auth: req.headers.authorization,
          raw,
        });
        const status = this.status(batch);
        if (status >= 200 && status < 300) this.events.push(...batch);
        res.writeHead(status).end();
      });
    });
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
