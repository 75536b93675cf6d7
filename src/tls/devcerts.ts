// Development TLS: a private CA and a serving certificate for localhost and
// 127.0.0.1, made on first run and reused afterwards. The API server trusts
// the CA through the webhook configuration's caBundle.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

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

  const ca = keyPair();
  const caCert = certificate({
    subject: 'belay development CA',
    publicKey: ca.publicKey,
    signer: ca.privateKey,
    issuer: 'belay development CA',
    days: days * 2,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });

  const leaf = keyPair();
  const leafCert = certificate({
    subject: hosts[0] ?? 'localhost',
    publicKey: leaf.publicKey,
    signer: ca.privateKey,
    issuer: 'belay development CA',
    days,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: hosts.map((h) => (/^[0-9.]+$/.test(h) || h.includes(':') ? { type: 7, ip: h } : { type: 2, value: h })),
      },
    ],
  });

  writeAtomic(files.caCert, forge.pki.certificateToPem(caCert), 0o644);
  writeAtomic(files.cert, forge.pki.certificateToPem(leafCert), 0o644);
  writeAtomic(files.key, forge.pki.privateKeyToPem(leaf.privateKey), 0o600);
  writeAtomic(path.join(dir, 'ca.key'), forge.pki.privateKeyToPem(ca.privateKey), 0o600);
  return { files, created: true };
}

export function readTls(files: TlsFiles): { cert: Buffer; key: Buffer; ca: Buffer } {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key), ca: readFileSync(files.caCert) };
}

function keyPair(): forge.pki.rsa.KeyPair {
  // Node's native generator: forge's pure-JS one takes seconds.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const priv = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function certificate(o: {
  subject: string;
  issuer: string;
  publicKey: forge.pki.PublicKey;
  signer: forge.pki.rsa.PrivateKey;
  days: number;
  extensions: unknown[];
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = o.publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + o.days * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: o.subject }]);
  cert.setIssuer([{ name: 'commonName', value: o.issuer }]);
  cert.setExtensions(o.extensions as never);
  cert.sign(o.signer, forge.md.sha256.create());
  return cert;
}

function writeAtomic(file: string, content: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, file);
}
