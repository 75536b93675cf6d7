// HTTPS serving: TLS with certificate reload, and graceful shutdown. Nothing
// about admission lives here.

import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from '../src/observe/log.js';
import type { TlsFiles } from '../src/tls/devcerts.js';
import { type CertificateSource, dirCertificateSource, placeholderPair } from '../src/tls/source.js';

export interface ServeOptions {
  host: string;
  port: number;
  /** The serving pair: files (reloaded when they change), or a source that hands in each new pair. */
  tls: TlsFiles | CertificateSource;
  log: Logger;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function serve(app: Express, options: ServeOptions): Promise<RunningServer> {
  const { log } = options;
  const owned = isSource(options.tls) ? undefined : await dirCertificateSource(options.tls, { log });
  const certificates = owned ?? (options.tls as CertificateSource);
  const initial = certificates.current();
  if (owned && !initial) {
    await owned.close();
    throw new Error(owned.problem() ?? 'no TLS certificate');
  }
  const server = https.createServer(secureContextOptions(initial ?? placeholderPair()), app);
  // The API server's webhook client keeps connections alive; match its expectations.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  watchCertificates(server, certificates, log);

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
      await owned?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // In-flight requests get a moment to finish, then are cut.
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
}

/** What the TLS context is made of: the serving pair. */
function secureContextOptions(pair: { cert: string; key: string }): https.ServerOptions {
  return { cert: pair.cert, key: pair.key };
}

/**
 * Swaps each new pair in (a rotation, a Secret volume update): new
 * connections get it, open ones keep the one they were made with, so no
 * request fails while certificates change.
 */
function watchCertificates(server: https.Server, certificates: CertificateSource, log: Logger): void {
  certificates.onChange((pair) => {
    try {
      server.setSecureContext(secureContextOptions(pair));
      log.info({ source: certificates.description, serial: pair.facts.serial, notAfter: pair.facts.notAfter.toISOString() }, 'serving a new TLS certificate');
    } catch (err) {
      log.error({ err, source: certificates.description }, 'TLS certificate could not be used; keeping the previous one');
    }
  });
}

function isSource(tls: TlsFiles | CertificateSource): tls is CertificateSource {
  return 'current' in tls && typeof tls.current === 'function';
}
