// Development TLS: a private CA and a serving certificate for localhost and
// 127.0.0.1, made on first run and reused afterwards. The API server trusts
// the CA through the webhook configuration's caBundle.

import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { issueServingCertificate, newCertificateAuthority } from './pki.js';

const DAY_MS = 86_400_000;

export interface TlsFiles {
  caCert: string;
  cert: string;
  key: string;
}

export function tlsPaths(dir: string): TlsFiles {
  return { caCert: path.join(dir, 'ca.crt'), cert: path.join(dir, 'tls.crt'), key: path.join(dir, 'tls.key') };
}

export interface DevCertOptions {
  hosts?: string[];
  validDays?: number;
}

/** Creates the CA and serving pair in `dir` unless all three files already exist. */
export function ensureDevCertificates(dir: string, options: DevCertOptions = {}): { files: TlsFiles; created: boolean } {
  const files = tlsPaths(dir);
  if (existsSync(files.caCert) && existsSync(files.cert) && existsSync(files.key)) return { files, created: false };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  const days = options.validDays ?? 365;

  const ca = newCertificateAuthority({ commonName: 'belay development CA', validityMs: days * 2 * DAY_MS });
  const leaf = issueServingCertificate({ ca, hosts, validityMs: days * DAY_MS });

  writeAtomic(files.caCert, ca.cert, 0o644);
  writeAtomic(files.cert, leaf.cert, 0o644);
  writeAtomic(files.key, leaf.key, 0o600);
  writeAtomic(path.join(dir, 'ca.key'), ca.key, 0o600);
  return { files, created: true };
}

function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}
