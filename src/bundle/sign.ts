// Bundle signing in OPA's format: a JWT listing every file's digest, in
// /.signatures.json. A bundle signed here verifies with
// `opa build --verification-key …` and in OPA's bundle plugin, and one signed
// by `opa build --signing-key …` verifies in belay (verify.ts).

import { createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CompactSign } from 'jose';
import { BelayError } from '../errors.js';
import { type ArchiveFiles, readArchive } from './archive.js';
import { hashBundleFile } from './filehash.js';
import { packArchive } from './pack.js';
import { isSigningAlgorithm, SIGNATURES_FILE, SIGNING_ALGORITHMS, type SignedFile, type SigningAlgorithm } from './verify.js';

export interface SigningOptions {
  key: KeyObject;
  algorithm: SigningAlgorithm;
  /** Written as the JWT "kid" header (and the deprecated "keyid" claim, as opa does). */
  keyId?: string;
  /** Extra claims, as opa's --claims-file (e.g. {"scope": "write", "iss": "ci"}). */
  claims?: Record<string, unknown>;
}

/** A signing key from PEM (RSA, EC, Ed25519 private key) or, for HS*, the shared secret. */
export function signingKey(material: string | Buffer, algorithm: string = 'RS256'): { key: KeyObject; algorithm: SigningAlgorithm } {
  if (!isSigningAlgorithm(algorithm))
    throw new BelayError('bad_request', `unknown signing algorithm ${JSON.stringify(algorithm)} (use one of ${SIGNING_ALGORITHMS.join(', ')})`);
  const text = Buffer.isBuffer(material) ? material.toString('utf8') : material;
  try {
    return { key: algorithm.startsWith('HS') ? createSecretKey(Buffer.from(text.trim(), 'utf8')) : createPrivateKey(text), algorithm };
  } catch (err) {
    throw new BelayError('bad_request', `the signing key is not a usable ${algorithm} private key: ${(err as Error).message}`, { cause: err });
  }
}

export function readSigningKey(file: string, algorithm?: string): { key: KeyObject; algorithm: SigningAlgorithm } {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    throw new BelayError('bad_request', `cannot read signing key ${file}: ${(err as Error).message}`, { cause: err });
  }
  return signingKey(pem, algorithm);
}

/** The digests of every file but the signature itself, as the JWT lists them. */
export function signedFiles(files: ArchiveFiles): SignedFile[] {
  return [...files]
    .filter(([path]) => path !== SIGNATURES_FILE)
    .map(([path, bytes]) => {
      const name = path.replace(/^\/+/, '');
      return { name, hash: hashBundleFile(name, bytes, 'SHA-256'), algorithm: 'SHA-256' };
    });
}

/** The compact JWT for `files`. */
export async function signatureToken(files: ArchiveFiles, options: SigningOptions): Promise<string> {
  const payload: Record<string, unknown> = { files: signedFiles(files) };
  if (options.claims) Object.assign(payload, options.claims);
  else if (options.keyId) payload.keyid = options.keyId;
  const header = { alg: options.algorithm, typ: 'JWT', ...(options.keyId ? { kid: options.keyId } : {}) };
  try {
    return await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(options.key);
  } catch (err) {
    throw new BelayError('bad_request', `cannot sign with this ${options.algorithm} key: ${(err as Error).message}`, { cause: err });
  }
}

/** `files` with a fresh /.signatures.json (an old one is replaced). */
export async function signFiles(files: ArchiveFiles, options: SigningOptions): Promise<ArchiveFiles> {
  const unsigned: ArchiveFiles = new Map([...files].filter(([path]) => path !== SIGNATURES_FILE));
  const token = await signatureToken(unsigned, options);
  const signed: ArchiveFiles = new Map(unsigned);
  signed.set(SIGNATURES_FILE, Buffer.from(`${JSON.stringify({ signatures: [token] }, null, 1)}\n`));
  return signed;
}

/** Signs a bundle archive and returns the signed archive. */
export async function signArchive(archive: Uint8Array, options: SigningOptions): Promise<Buffer> {
  return packArchive(await signFiles(await readArchive(archive), options));
}
