// What a bundle holds, for `belay bundle inspect`: revision, roots,
// entrypoints, data keys, the built-ins its wasm calls (and whether belay can
// provide them), the files and the signature.

import { createHash } from 'node:crypto';
import { entrypointOf, FACES, type Face, type JsonObject } from '../contract/index.js';
import { asBelayError } from '../errors.js';
import { customBuiltins, regoBuiltins, sdkBuiltinNames } from '../policy/builtins.js';
import { moduleBuiltins } from '../policy/wasm.js';
import { readArchive } from './archive.js';
import { bundleFromFiles } from './bundle.js';
import { SIGNATURES_FILE, type VerificationConfig, verifyBundleSignature } from './verify.js';

export interface BundleInspection {
  digest: string;
  bytes: number;
  revision: string;
  roots: string[];
  entrypoints: string[];
  /** belay faces the entrypoints serve, and those missing. */
  faces: { served: Face[]; missing: Face[] };
  /** Data paths, dotted, down to three levels. */
  dataKeys: string[];
  /** Host built-ins the wasm module calls, each with who provides it. */
  builtins: { name: string; provider: 'sdk' | 'belay' | 'missing' }[];
  regoVersion: number | null;
  metadata: JsonObject;
  files: { name: string; bytes: number }[];
  signature: null | {
    keyId: string | null;
    algorithm: string | null;
    scope: string | null;
    files: number;
    /** Set when keys were given: whether it verified, and why not. */
    verified?: boolean;
    error?: string;
  };
}

function dataKeys(data: JsonObject, depth = 3, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(data).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (depth > 1 && typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0)
      out.push(...dataKeys(v as JsonObject, depth - 1, p));
    else out.push(p);
  }
  return out;
}

function decodeJwtPart(part: string | undefined): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export async function inspectBundle(archive: Uint8Array, verification?: VerificationConfig | null): Promise<BundleInspection> {
  const files = await readArchive(archive);
  const bundle = bundleFromFiles(files, createHash('sha256').update(archive).digest('hex'));
  const manifestRaw = files.get('/.manifest');
  let regoVersion: number | null = null;
  try {
    const m = manifestRaw ? (JSON.parse(manifestRaw.toString('utf8')) as { rego_version?: unknown }) : {};
    regoVersion = typeof m.rego_version === 'number' ? m.rego_version : null;
  } catch {
    // bundleFromFiles already refused a broken manifest
  }
  const entrypoints = bundle.manifest.wasm.map((w) => w.entrypoint);
  // belay's own implementations win over the SDK's (src/policy/instantiate.ts).
  const own = new Set([...Object.keys(customBuiltins()), ...Object.keys(regoBuiltins())]);
  const sdk = sdkBuiltinNames();
  const builtins = (await moduleBuiltins(bundle.wasm)).map((name) => ({
    name,
    provider: own.has(name) ? ('belay' as const) : sdk.has(name) ? ('sdk' as const) : ('missing' as const),
  }));

  let signature: BundleInspection['signature'] = null;
  const sig = files.get(SIGNATURES_FILE);
  if (sig) {
    let token = '';
    try {
      token = String((JSON.parse(sig.toString('utf8')) as { signatures?: unknown[] }).signatures?.[0] ?? '');
    } catch {
      token = '';
    }
    const [h, p] = token.split('.');
    const header = decodeJwtPart(h);
    const payload = decodeJwtPart(p);
    signature = {
      keyId: typeof header.kid === 'string' ? header.kid : typeof payload.keyid === 'string' ? payload.keyid : null,
      algorithm: typeof header.alg === 'string' ? header.alg : null,
      scope: typeof payload.scope === 'string' ? payload.scope : null,
      files: Array.isArray(payload.files) ? payload.files.length : 0,
    };
  }
  if (verification) {
    try {
      await verifyBundleSignature(files, verification);
      if (signature) signature.verified = true;
    } catch (err) {
      signature = { ...(signature ?? { keyId: null, algorithm: null, scope: null, files: 0 }), verified: false, error: asBelayError(err).message };
    }
  }

  const served = FACES.filter((f) => entrypoints.includes(entrypointOf(f)));
  return {
    digest: bundle.digest,
    bytes: archive.byteLength,
    revision: bundle.manifest.revision,
    roots: bundle.manifest.roots,
    entrypoints,
    faces: { served, missing: FACES.filter((f) => !served.includes(f)) },
    dataKeys: dataKeys(bundle.data),
    builtins,
    regoVersion,
    metadata: bundle.manifest.metadata,
    files: [...files].map(([name, b]) => ({ name, bytes: b.length })),
    signature,
  };
}

export function renderInspection(i: BundleInspection): string {
  const lines = [
    `revision     ${i.revision || '(none)'}`,
    `sha256       ${i.digest}  (${i.bytes} bytes)`,
    `roots        ${i.roots.map((r) => (r === '' ? '(all of data)' : r)).join(', ')}`,
    `entrypoints  ${i.entrypoints.join(', ') || '(none)'}`,
    `faces        ${i.faces.served.join(', ') || '(none)'}${i.faces.missing.length ? `   (no entrypoint for ${i.faces.missing.join(', ')})` : ''}`,
    `rego         v${i.regoVersion ?? '?'}`,
    `built-ins    ${i.builtins.length === 0 ? '(none called from the host)' : i.builtins.map((b) => `${b.name} (${b.provider === 'missing' ? 'MISSING: belay cannot run this bundle' : b.provider})`).join(', ')}`,
    `data keys    ${i.dataKeys.join(', ') || '(none)'}`,
  ];
  if (Object.keys(i.metadata).length > 0) lines.push(`metadata     ${JSON.stringify(i.metadata)}`);
  if (!i.signature) lines.push('signature    unsigned');
  else {
    const s = i.signature;
    const state = s.verified === undefined ? 'not verified (give --verification-key)' : s.verified ? 'VERIFIED' : `REFUSED: ${s.error}`;
    lines.push(`signature    ${s.algorithm ?? '?'} key ${s.keyId ?? '(unnamed)'}${s.scope ? ` scope ${s.scope}` : ''}, ${s.files} files listed: ${state}`);
  }
  lines.push('files');
  for (const f of i.files) lines.push(`  ${String(f.bytes).padStart(9)}  ${f.name}`);
  return `${lines.join('\n')}\n`;
}
