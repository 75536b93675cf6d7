// HTTPS serving: TLS with certificate reload (the serving pair and the CA of
// client certificates), and graceful shutdown. Nothing about admission lives here.

import { type FSWatcher, readFileSync, watch } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '../src/observe/log.js';
import { readTls, type TlsFiles } from '../src/tls/devcerts.js';

export interface ServeOptions {
  host: string;
  port: number;
  tls: TlsFiles;
  /**
   * The CA of client certificates to ask for (the API server's, for the
   * webhook faces). A certificate is requested, never required: the faces
   * that need one check it (client-cert.ts); bearer-token faces share the listener.
   */
  clientCaFile?: string;
  log: Logger;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serve(app: Express, options: ServeOptions): Promise<RunningServer> {
  const { cert, key } = readTls(options.tls);
  const clientCa = () => (options.clientCaFile ? { ca: readFileSync(options.clientCaFile), requestCert: true, rejectUnauthorized: false } : {});
  const server = https.createServer({ cert, key, ...clientCa() }, app);
  // The API server's webhook client keeps connections alive; match its expectations.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  // Reload the serving pair when it is rotated on disk (cert-manager, a Secret update).
  let reloadTimer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const file of [options.tls.cert, options.tls.key, ...(options.clientCaFile ? [options.clientCaFile] : [])]) {
    try {
      watchers.push(
        watch(file, () => {
          clearTimeout(reloadTimer);
          reloadTimer = setTimeout(() => {
            try {
              const next = readTls(options.tls);
              const { ca } = clientCa();
              server.setSecureContext({ cert: next.cert, key: next.key, ...(ca ? { ca } : {}) });
              options.log.info({ cert: options.tls.cert }, 'reloaded TLS certificate');
            } catch (err) {
              options.log.error({ err }, 'TLS certificate reload failed; keeping the previous one');
            }
          }, 200);
        }),
      );
    } catch {
      // A platform without file watching keeps the certificate it started with.
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `https://${host}:${port}`,
    port,
    async close() {
      for (const w of watchers) w.close();
      clearTimeout(reloadTimer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish, then are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
}
