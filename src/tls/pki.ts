// Certificates belay makes for itself: a CA and serving certificates signed by
// it (the development TLS in devcerts.ts, the certificate controller in
// controller.ts), and what is read back from PEM. Keys are RSA 2048 from
// Node's generator (node-forge, which signs, only does RSA and is slow to
// generate); reading uses Node's X509Certificate.

import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';

export interface KeyPairPem {
  readonly cert: string;
  readonly key: string;
}

/**
 * Backdating of notBefore, for clocks a little behind ours: a minute, but no
 * more than a tenth of the lifetime (renewal is reckoned from notBefore).
 */
function backdate(validityMs: number): number {
  return Math.min(60_000, Math.floor(validityMs / 10));
}

/** A self-signed CA named `commonName`, valid for `validityMs` from `now`. */
export function newCertificateAuthority(o: { commonName: string; validityMs: number; now?: Date }): KeyPairPem {
  const now = o.now ?? new Date();
  const keys = keyPair();
  const cert = certificate({
    subject: o.commonName,
    issuer: o.commonName,
    publicKey: keys.publicKey,
    signer: keys.privateKey,
    notBefore: new Date(now.getTime() - backdate(o.validityMs)),
    notAfter: new Date(now.getTime() + o.validityMs),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ],
  });
  return pem(cert, keys.privateKey);
}

/**
 * A serving certificate for `hosts` (DNS names and IP addresses) signed by
 * `ca`, valid for `validityMs` from `now` but never past the CA's own end.
 */
export function issueServingCertificate(o: { ca: KeyPairPem; hosts: readonly string[]; validityMs: number; now?: Date }): KeyPairPem {
  const now = o.now ?? new Date();
  const caCert = forge.pki.certificateFromPem(o.ca.cert);
  const caKey = forge.pki.privateKeyFromPem(o.ca.key) as forge.pki.rsa.PrivateKey;
  const keys = keyPair();
  const notAfter = new Date(Math.min(now.getTime() + o.validityMs, caCert.validity.notAfter.getTime()));
  const cert = certificate({
    subject: o.hosts[0] ?? 'belay',
    issuer: commonNameOf(caCert),
    publicKey: keys.publicKey,
    signer: caKey,
    notBefore: new Date(Math.max(now.getTime() - backdate(o.validityMs), caCert.validity.notBefore.getTime())),
    notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: o.hosts.map(altName) },
      { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
    ],
  });
  return pem(cert, keys.privateKey);
}

/** PEM with plain newlines (forge writes CRLF), so a bundle reads back byte for byte. */
function pem(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): KeyPairPem {
  const lf = (s: string) => s.replace(/\r\n/g, '\n');
  return { cert: lf(forge.pki.certificateToPem(cert)), key: lf(forge.pki.privateKeyToPem(key)) };
}

export interface CertificateFacts {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCA: boolean;
  /** DNS names and IP addresses. */
  readonly hosts: string[];
  readonly x509: X509Certificate;
}

/** What a PEM certificate says; throws for anything that is not one. */
export function inspectCertificate(pem: string | Buffer): CertificateFacts {
  const x = new X509Certificate(pem);
  const hosts = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .map((s) => /^(?:DNS|IP Address):(.+)$/.exec(s.trim())?.[1])
    .filter((h): h is string => h !== undefined);
  return {
    subject: x.subject,
    issuer: x.issuer,
    serial: x.serialNumber,
    notBefore: new Date(x.validFrom),
    notAfter: new Date(x.validTo),
    isCA: x.ca,
    hosts,
    x509: x,
  };
}

/** The certificates of a PEM bundle, in order. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((c) => `${c}\n`) ?? [];
}

/** True when `cert` was signed by `ca` (its key, and its name as issuer). */
export function signedBy(cert: CertificateFacts, ca: CertificateFacts): boolean {
  return cert.issuer === ca.subject && cert.x509.verify(ca.x509.publicKey);
}

/** True when `keyPem` is the private key of `cert`. */
export function keyMatches(cert: CertificateFacts, keyPem: string): boolean {
  try {
    return cert.x509.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function altName(host: string): { type: number; value?: string; ip?: string } {
  return /^[0-9.]+$/.test(host) || host.includes(':') ? { type: 7, ip: host } : { type: 2, value: host };
}

function commonNameOf(cert: forge.pki.Certificate): string {
  return String(cert.subject.getField('CN')?.value ?? '');
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
  notBefore: Date;
  notAfter: Date;
  extensions: unknown[];
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = o.publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = o.notBefore;
  cert.validity.notAfter = o.notAfter;
  // UTF8String: forge's default PrintableString cannot hold every name ('@', '_', '*'), and Go refuses such a certificate.
  cert.setSubject([commonName(o.subject)]);
  cert.setIssuer([commonName(o.issuer)]);
  cert.setExtensions(o.extensions as never);
  cert.sign(o.signer, forge.md.sha256.create());
  return cert;
}

/** A commonName attribute as UTF8String (forge's typings call the tag a class; it is the ASN.1 type). */
function commonName(value: string): forge.pki.CertificateField {
  return { name: 'commonName', value, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField;
}
