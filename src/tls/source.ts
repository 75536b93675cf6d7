// Where the HTTPS server's certificate comes from, and how it learns of a new
// one: files in a directory (development TLS, a cert-manager or existing
// Secret mounted as a volume), or the TLS Secret read through the API
// (secret.ts). The server swaps each new pair in for new connections
// (server.setSecureContext); connections already open keep theirs, so a
// rotation fails no request.

import path from 'node:path';
import { asBelayError } from '../errors.js';
import type { Logger } from '../observe/log.js';
import { watchFiles } from '../util/watch-files.js';
import type { TlsFiles } from './devcerts.js';
import { type CertificateFacts, inspectCertificate, issueServingCertificate, keyMatches, newCertificateAuthority } from './pki.js';

export interface ServingPair {
  readonly cert: string;
  readonly key: string;
  /** The CA bundle clients trust (ca.crt), when known. */
  readonly ca?: string;
  readonly facts: CertificateFacts;
}

export interface CertificateSource {
  /** What it reads from, for logs and /readyz. */
  readonly description: string;
  /** The pair to serve now; undefined until one was loaded. */
  current(): ServingPair | undefined;
  /** Why there is none (or why the newest could not be used); undefined when all is well. */
  problem(): string | undefined;
  /** Called with every new pair. */
  onChange(listener: (pair: ServingPair) => void): void;
  close(): Promise<void> | void;
}

/** A cert/key pair checked: both PEM, the key the certificate's, not expired. */
export function servingPair(cert: string, key: string, ca?: string): ServingPair {
  const facts = inspectCertificate(cert);
  if (!keyMatches(facts, key)) throw new Error('tls.key is not the private key of tls.crt');
  if (facts.notAfter.getTime() <= Date.now()) throw new Error(`tls.crt expired at ${facts.notAfter.toISOString()}`);
  return { cert, key, ...(ca ? { ca } : {}), facts };
}

/**
 * A certificate nobody trusts, made in memory, served only until the real one
 * is loaded: probes (which do not verify) and /readyz (which says why it is
 * not ready) answer over HTTPS meanwhile. Never written anywhere.
 */
export function placeholderPair(): { cert: string; key: string } {
  const ca = newCertificateAuthority({ commonName: 'belay placeholder (not ready)', validityMs: 86_400_000 });
  return issueServingCertificate({ ca, hosts: ['belay-not-ready.invalid'], validityMs: 86_400_000 });
}

/**
 * tls.crt, tls.key (and ca.crt), read again whenever they change. A
 * Secret volume swaps its `..data` symlink on update, which watchFiles
 * follows; a pair that does not load keeps the previous one serving.
 */
export async function dirCertificateSource(files: TlsFiles, options: { log?: Logger; pollMs?: number } = {}): Promise<CertificateSource> {
  const dir = path.dirname(files.cert);
  let pair: ServingPair | undefined;
  let problem: string | undefined;
  const listeners: ((p: ServingPair) => void)[] = [];
  const watched = await watchFiles(
    [files.cert, files.key, files.caCert],
    (contents) => {
      const cert = contents.get(files.cert);
      const key = contents.get(files.key);
      const ca = contents.get(files.caCert);
      try {
        if (cert instanceof Error || cert === undefined) throw new Error(`cannot read ${files.cert}: ${(cert as Error | undefined)?.message ?? 'missing'}`);
        if (key instanceof Error || key === undefined) throw new Error(`cannot read ${files.key}: ${(key as Error | undefined)?.message ?? 'missing'}`);
        const next = servingPair(cert.toString('utf8'), key.toString('utf8'), ca instanceof Buffer ? ca.toString('utf8') : undefined);
        const first = pair === undefined;
        pair = next;
        problem = undefined;
        if (!first) options.log?.info({ dir, serial: next.facts.serial, notAfter: next.facts.notAfter }, 'reloaded TLS certificate');
        for (const l of listeners) l(next);
      } catch (err) {
        problem = `TLS files in ${dir}: ${asBelayError(err).message}${pair ? ' (the previous certificate keeps serving)' : ''}`;
        options.log?.error({ dir, err: problem }, 'TLS certificate not loaded');
      }
    },
    { ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}) },
  );
  return {
    description: `files in ${dir}`,
    current: () => pair,
    problem: () => problem,
    onChange: (l) => listeners.push(l),
    close: () => watched.close(),
  };
}
