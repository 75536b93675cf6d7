// HTTPS serving: TLS with certificate reload (the serving pair and the CA of
// client certificates), and graceful shutdown. Nothing about admission lives here.

import { type FSWatcher, readFileSync, watch } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Express } from 'express';
import type { Logger } from '../src/observe/log.js';
import type { TlsFiles } from '../src/tls/devcerts.js';
import { type CertificateSource, dirCertificateSource, placeholderPair } from '../src/tls/source.js';

export interface ServeOptions {
  host: string;
  port: number;
  /** The serving pair: files (reloaded when they change), or a source that hands in each new pair. */
  tls: TlsFiles | CertificateSource;
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
  /**
   * Takes no new connections, closes idle ones, asks clients to close busy
   * ones after their answer (Connection: close), and waits up to `graceMs`
   * for the requests in flight before cutting what is left.
   */
  close(graceMs?: number): Promise<void>;
  /** From now on every answer says Connection: close, so clients move off this server's connections before it closes. */
  drain(): void;
}

/** How long a closing server waits for requests in flight by default. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

export async function serve(app: Express, options: ServeOptions): Promise<RunningServer> {
  const { log } = options;
  const owned = isSource(options.tls) ? undefined : await dirCertificateSource(options.tls, { log });
  const certificates = owned ?? (options.tls as CertificateSource);
  const initial = certificates.current();
  if (owned && !initial) {
    await owned.close();
    throw new Error(owned.problem() ?? 'no TLS certificate');
  }
  const server = https.createServer(secureContextOptions(initial ?? placeholderPair(), options.clientCaFile), app);
  // The API server's webhook client keeps connections alive; match its expectations.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  watchCertificates(server, certificates, log, options.clientCaFile);
  const caWatch = options.clientCaFile ? watchClientCa(server, certificates, options.clientCaFile, log) : undefined;
  // Set by drain() or close(): answers end their connection.
  let closing = false;
  // TLS connections that have not sent a request yet: node's closeIdleConnections leaves them
  // open (a balancer's or client's spare connection), which would hold the exit until the grace
  // period. One that has sent a request is node's to judge: it knows when the next one starts.
  const unused = new Set<TLSSocket>();
  server.on('secureConnection', (socket: TLSSocket) => {
    unused.add(socket);
    socket.once('close', () => unused.delete(socket));
  });
  // Once closing, every answer tells the client not to reuse its connection, so busy ones end with their request.
  server.prependListener('request', (req, res) => {
    unused.delete(req.socket as TLSSocket);
    if (closing) res.setHeader('Connection', 'close');
  });
  const closeIdle = () => {
    server.closeIdleConnections();
    for (const socket of unused) socket.destroy();
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `https://${host}:${port}`,
    port,
    drain() {
      closing = true;
    },
    async close(graceMs = DEFAULT_CLOSE_GRACE_MS) {
      closing = true;
      caWatch?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        closeIdle();
        // In-flight requests get `graceMs` to finish, then are cut; a connection that turns idle meanwhile is closed.
        const idle = setInterval(closeIdle, 100);
        idle.unref();
        const cut = setTimeout(() => {
          log.warn({ graceMs }, 'requests still in flight after the shutdown grace period: connections cut');
          server.closeAllConnections();
        }, graceMs);
        cut.unref();
        server.once('close', () => {
          clearInterval(idle);
          clearTimeout(cut);
        });
      });
      await owned?.close();
    },
  };
}

/** What the TLS context is made of: the serving pair, and the CA client certificates are asked for (requested, not required). */
function secureContextOptions(pair: { cert: string; key: string }, clientCaFile?: string): https.ServerOptions {
  const clientCa = clientCaFile ? { ca: readFileSync(clientCaFile), requestCert: true, rejectUnauthorized: false } : {};
  return { cert: pair.cert, key: pair.key, ...clientCa };
}

/**
 * Swaps each new pair in (a rotation, a Secret volume update): new
 * connections get it, open ones keep the one they were made with, so no
 * request fails while certificates change.
 */
function watchCertificates(server: https.Server, certificates: CertificateSource, log: Logger, clientCaFile?: string): void {
  certificates.onChange((pair) => {
    try {
      server.setSecureContext(secureContextOptions(pair, clientCaFile));
      log.info({ source: certificates.description, serial: pair.facts.serial, notAfter: pair.facts.notAfter.toISOString() }, 'serving a new TLS certificate');
    } catch (err) {
      log.error({ err, source: certificates.description }, 'TLS certificate could not be used; keeping the previous one');
    }
  });
}

/** A rotated client CA (the API server's) is taken on the next connection; a bad one leaves the previous in place. */
function watchClientCa(server: https.Server, certificates: CertificateSource, file: string, log: Logger): FSWatcher | undefined {
  let timer: NodeJS.Timeout | undefined;
  try {
    return watch(file, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const pair = certificates.current();
        if (!pair) return;
        try {
          server.setSecureContext(secureContextOptions(pair, file));
          log.info({ file }, 'reloaded the webhook client CA');
        } catch (err) {
          log.error({ err, file }, 'webhook client CA could not be used; keeping the previous one');
        }
      }, 200);
    });
  } catch {
    // A platform without file watching keeps the CA it started with.
    return undefined;
  }
}

function isSource(tls: TlsFiles | CertificateSource): tls is CertificateSource {
  return 'current' in tls && typeof tls.current === 'function';
}
