// Bundle signature verification in OPA's format, between reading a bundle and
// activating it. As OPA's reader does (v1/bundle/verify.go): the JWT in
// .signatures.json is verified first (with jose), then every file's digest,
// then files the signature lists but the bundle lacks fail too. A file the
// signature does not list is refused, except .signatures.json itself.

import { createPublicKey, createSecretKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { BelayError } from '../errors.js';
import type { ArchiveFiles } from './archive.js';
import { hashBundleFile } from './filehash.js';

export const SIGNATURES_FILE = '/.signatures.json';

export const SIGNING_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'HS256',
  'HS384',
  'HS512',
] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];

export interface VerificationKey {
  id: string;
  algorithm: SigningAlgorithm;
  key: KeyObject;
  /** The scope a bundle signed with this key must state (OPA's keys.<id>.scope). */
  scope?: string;
}

export interface VerificationConfig {
  keys: ReadonlyMap<string, VerificationKey>;
  /** Key to use whatever the JWT names (OPA's bundles.<name>.signing.keyid). */
  keyId?: string;
  /** Scope the bundle must state; overrides the key's. */
  scope?: string;
  /** Glob patterns (OPA's exclude_files) of files left out of verification. */
  exclude?: string[];
}

/** What a verified signature vouched for. */
export interface VerifiedSignature {
  keyId: string;
  algorithm: string;
  scope: string;
  /** Bundle paths ("/policy.wasm") whose digests were checked. */
  files: string[];
  issuer?: string;
  issuedAt?: number;
}

export interface SignedFile {
  name: string;
  hash: string;
  algorithm: string;
}

function refuse(message: string, cause?: unknown): never {
  throw new BelayError('bundle_invalid', `bundle signature: ${message}`, cause === undefined ? undefined : { cause });
}

export function isSigningAlgorithm(a: string): a is SigningAlgorithm {
  return (SIGNING_ALGORITHMS as readonly string[]).includes(a);
}

/**
 * A verification key from PEM text (public key, certificate, or a private key
 * whose public half is used) or, for HS*, the shared secret itself.
 */
export function verificationKey(material: string | Buffer, options: { id?: string; algorithm?: string; scope?: string } = {}): VerificationKey {
  const algorithm = options.algorithm ?? 'RS256';
  if (!isSigningAlgorithm(algorithm))
    throw new BelayError('bad_request', `unknown signing algorithm ${JSON.stringify(algorithm)} (use one of ${SIGNING_ALGORITHMS.join(', ')})`);
  const text = Buffer.isBuffer(material) ? material.toString('utf8') : material;
  let key: KeyObject;
  try {
    if (algorithm.startsWith('HS')) key = createSecretKey(Buffer.from(text.trim(), 'utf8'));
    else if (text.includes('-----BEGIN CERTIFICATE-----')) key = new X509Certificate(text).publicKey;
    else key = createPublicKey(text);
  } catch (err) {
    throw new BelayError('bad_request', `verification key ${options.id ?? 'default'} is not a usable ${algorithm} key: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { id: options.id ?? 'default', algorithm, key, ...(options.scope !== undefined ? { scope: options.scope } : {}) };
}

/** Reads a key file; `file` may be "id=path" to name the key (several keys, one per id). */
export function readVerificationKey(file: string, options: { algorithm?: string; scope?: string } = {}): VerificationKey {
  const m = /^([A-Za-z0-9_.:-]+)=(.+)$/.exec(file);
  const id = m ? m[1]! : 'default';
  const filePath = m ? m[2]! : file;
  let pem: Buffer;
  try {
    pem = readFileSync(filePath);
  } catch (err) {
    throw new BelayError('bad_request', `cannot read verification key ${filePath}: ${(err as Error).message}`, { cause: err });
  }
  return verificationKey(pem, { id, ...options });
}

export function verificationConfig(keys: readonly VerificationKey[], options: { keyId?: string; scope?: string; exclude?: string[] } = {}): VerificationConfig {
  const map = new Map<string, VerificationKey>();
  for (const k of keys) {
    if (map.has(k.id)) throw new BelayError('bad_request', `two verification keys are named ${JSON.stringify(k.id)}; name them id=path`);
    map.set(k.id, k);
  }
  return { keys: map, ...options };
}

/** OPA's filepath.Match globs: * and ? within a path segment, [...] classes. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function readSignatures(bytes: Buffer): string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return refuse(`.signatures.json is not JSON: ${(err as Error).message}`, err);
  }
  const d = doc as { signatures?: unknown; plugin?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(d.signatures)) return refuse('.signatures.json must be {"signatures": ["<JWT>"]}');
  if (d.plugin !== undefined && d.plugin !== '' && d.plugin !== '_default')
    return refuse(`.signatures.json names signing plugin ${JSON.stringify(d.plugin)}, which belay does not have`);
  if (d.signatures.length === 0) return refuse('.signatures.json holds no JWT (expected exactly one)');
  if (d.signatures.length > 1) return refuse('.signatures.json holds several JWTs; OPA and belay support exactly one');
  if (typeof d.signatures[0] !== 'string') return refuse('.signatures.json: the signature must be a compact JWT string');
  return d.signatures[0];
}

function decodePayload(token: string): { files: SignedFile[]; keyid?: string; scope?: string; iss?: string; iat?: number } {
  const parts = token.split('.');
  if (parts.length !== 3) return refuse('the JWT is not in compact form (header.payload.signature)');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch (err) {
    return refuse('the JWT payload is not JSON', err);
  }
  const p = payload as Record<string, unknown>;
  if (typeof payload !== 'object' || payload === null || !Array.isArray(p.files)) return refuse('the JWT payload lists no "files"');
  const files = p.files.map((f, i): SignedFile => {
    const o = f as Record<string, unknown>;
    if (typeof o?.name !== 'string' || typeof o.hash !== 'string') return refuse(`files[${i}] in the JWT payload needs "name" and "hash"`);
    return { name: o.name, hash: o.hash, algorithm: typeof o.algorithm === 'string' ? o.algorithm : '' };
  });
  return {
    files,
    ...(typeof p.keyid === 'string' ? { keyid: p.keyid } : {}),
    ...(typeof p.scope === 'string' ? { scope: p.scope } : {}),
    ...(typeof p.iss === 'string' ? { iss: p.iss } : {}),
    ...(typeof p.iat === 'number' ? { iat: p.iat } : {}),
  };
}

/**
 * Verifies `files` against their .signatures.json. Returns null for an
 * unsigned bundle when no keys are configured; throws `bundle_invalid` with
 * the reason for anything else that is not a valid signature by a configured key.
 */
export async function verifyBundleSignature(files: ArchiveFiles, config: VerificationConfig | null): Promise<VerifiedSignature | null> {
  const sigFile = files.get(SIGNATURES_FILE);
  if (!sigFile) {
    if (config && config.keys.size > 0) refuse('the bundle is not signed (no .signatures.json) but verification keys are configured');
    return null;
  }
  if (!config || config.keys.size === 0) {
    // As OPA: a signed bundle with nothing to check it against is refused, not trusted blindly.
    refuse('the bundle is signed but no verification key is configured (--verification-key)');
  }
  const cfg = config!;
  const token = readSignatures(sigFile);

  // 1. The JWT: which key, a valid signature by it, the right scope.
  let header: { kid?: unknown; alg?: unknown };
  try {
    header = decodeProtectedHeader(token);
  } catch (err) {
    return refuse(`the JWT header cannot be read: ${(err as Error).message}`, err);
  }
  const payload = decodePayload(token);
  // OPA's order: the configured key id, the JWT's kid, the deprecated keyid claim; opa build
  // --claims-file writes neither, and its CLI then falls back to its one key, as here.
  const only = cfg.keys.size === 1 ? [...cfg.keys.keys()][0]! : '';
  const keyId = cfg.keyId || (typeof header.kid === 'string' ? header.kid : '') || payload.keyid || only;
  if (keyId === '') refuse('the JWT names no key (no "kid" header or "keyid" claim); configure the key id to verify with (--verification-key-id)');
  const key = cfg.keys.get(keyId);
  if (!key) refuse(`signed with key ${JSON.stringify(keyId)}, which is not a configured verification key (configured: ${[...cfg.keys.keys()].join(', ')})`);
  try {
    await compactVerify(token, key!.key, { algorithms: [key!.algorithm] });
  } catch (err) {
    const why =
      err instanceof joseErrors.JOSEAlgNotAllowed
        ? `the JWT is signed with ${String(header.alg)} but key ${JSON.stringify(keyId)} is configured for ${key!.algorithm}`
        : err instanceof joseErrors.JWSSignatureVerificationFailed
          ? `the JWT signature does not verify with key ${JSON.stringify(keyId)} (${key!.algorithm}): the signature or its payload was changed, or another key signed it`
          : `the JWT does not verify with key ${JSON.stringify(keyId)} (${key!.algorithm}): ${(err as Error).message}`;
    refuse(why, err);
  }
  const scope = cfg.scope ?? key!.scope ?? '';
  if ((payload.scope ?? '') !== scope)
    refuse(`scope ${JSON.stringify(payload.scope ?? '')} in the JWT does not match the configured scope ${JSON.stringify(scope)}`);

  // 2. Every file's digest, in bundle order.
  const listed = new Map<string, SignedFile>();
  for (const f of payload.files) listed.set(f.name.replace(/^\/+/, ''), f);
  const excluded = (cfg.exclude ?? []).map(globToRegExp);
  const checked: string[] = [];
  for (const [path, bytes] of files) {
    if (path === SIGNATURES_FILE) continue;
    const name = path.replace(/^\/+/, '');
    if (excluded.some((re) => re.test(name))) {
      listed.delete(name);
      continue;
    }
    const entry = listed.get(name);
    if (!entry) refuse(`file ${path} is not listed in the signature: it was added after signing`);
    if (entry!.algorithm === '') refuse(`file ${path}: the signature gives no hash algorithm`);
    const actual = hashBundleFile(name, bytes, entry!.algorithm);
    if (actual !== entry!.hash.toLowerCase())
      refuse(`file ${path}: digest mismatch (signed ${entry!.hash}, found ${actual}): the file was changed after signing`);
    listed.delete(name);
    checked.push(path);
  }

  // 3. Files the signature vouches for must all be there.
  if (listed.size > 0) refuse(`the signature lists file${listed.size > 1 ? 's' : ''} the bundle lacks: ${[...listed.keys()].map((n) => `/${n}`).join(', ')}`);

  return {
    keyId,
    algorithm: key!.algorithm,
    scope,
    files: checked,
    ...(payload.iss ? { issuer: payload.iss } : {}),
    ...(payload.iat !== undefined ? { issuedAt: payload.iat } : {}),
  };
}
