// What the files of a bundle mean: the manifest, the data tree and the wasm
// module. Verification of signatures is a separate step (see verify.ts when
// configured); compiling the module is policy/wasm.ts's job.

import { createHash } from 'node:crypto';
import type { JsonObject } from '../contract/index.js';
import { BelayError } from '../errors.js';
import { type ArchiveFiles, type ArchiveLimits, readArchive } from './archive.js';

export interface BundleManifest {
  revision: string;
  roots: string[];
  wasm: { entrypoint: string; module: string }[];
  metadata: JsonObject;
}

export interface Bundle {
  manifest: BundleManifest;
  /** The compiled policy module. */
  wasm: Uint8Array;
  /** The merged data tree (every data.json at its directory's path). */
  data: JsonObject;
  /** Every file of the archive, for inspection and signature checks. */
  files: ArchiveFiles;
  /** sha256 of the archive bytes, to tell two builds of one revision apart. */
  digest: string;
}

export async function parseBundle(archive: Uint8Array, limits?: ArchiveLimits): Promise<Bundle> {
  const files = await readArchive(archive, limits);
  return bundleFromFiles(files, createHash('sha256').update(archive).digest('hex'));
}

export function bundleFromFiles(files: ArchiveFiles, digest: string): Bundle {
  const manifest = parseManifest(files.get('/.manifest'));
  const wasmPath = manifest.wasm[0]?.module ?? '/policy.wasm';
  const wasm = files.get(wasmPath.startsWith('/') ? wasmPath : `/${wasmPath}`);
  if (!wasm) {
    throw new BelayError('bundle_invalid', `bundle has no ${wasmPath}: build it with "opa build -t wasm"`);
  }
  return { manifest, wasm, data: mergeData(files), files, digest };
}

function parseManifest(bytes: Buffer | undefined): BundleManifest {
  if (!bytes) return { revision: '', roots: [''], wasm: [], metadata: {} };
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BelayError('bundle_invalid', `bundle .manifest is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BelayError('bundle_invalid', 'bundle .manifest is not a JSON object');
  }
  const m = raw as Record<string, unknown>;
  const wasm = Array.isArray(m.wasm)
    ? m.wasm.filter(
        (w): w is { entrypoint: string; module: string } =>
          typeof w === 'object' && w !== null && typeof w.entrypoint === 'string' && typeof w.module === 'string',
      )
    : [];
  return {
    revision: typeof m.revision === 'string' ? m.revision : '',
    roots: Array.isArray(m.roots) ? m.roots.filter((r): r is string => typeof r === 'string') : [''],
    wasm,
    metadata: typeof m.metadata === 'object' && m.metadata !== null ? (m.metadata as JsonObject) : {},
  };
}

/** OPA's layout: /a/b/data.json holds data.a.b. */
function mergeData(files: ArchiveFiles): JsonObject {
  const root: JsonObject = {};
  const dataFiles = [...files.keys()].filter((p) => p === '/data.json' || p.endsWith('/data.json')).sort();
  for (const file of dataFiles) {
    let value: unknown;
    try {
      value = JSON.parse(files.get(file)!.toString('utf8'));
    } catch (err) {
      throw new BelayError('bundle_invalid', `bundle ${file} is not JSON: ${(err as Error).message}`, { cause: err });
    }
    const segments = file.split('/').slice(1, -1);
    if (segments.length === 0) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new BelayError('bundle_invalid', 'bundle /data.json must be a JSON object');
      }
      deepMerge(root, value as JsonObject, file);
    } else {
      let node = root;
      for (const seg of segments.slice(0, -1)) node = child(node, seg);
      const last = segments[segments.length - 1]!;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        deepMerge(child(node, last), value as JsonObject, file);
      } else {
        node[last] = value;
      }
    }
  }
  return root;
}

function deepMerge(target: JsonObject, source: JsonObject, file: string): void {
  for (const [k, v] of Object.entries(source)) {
    const existing = target[k];
    if (isPlainObject(existing) && isPlainObject(v)) deepMerge(existing, v, file);
    else if (existing !== undefined) throw new BelayError('bundle_invalid', `bundle ${file} redefines data key ${k}`);
    else target[k] = v;
  }
}

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object under `key`, made empty when absent. */
function child(node: JsonObject, key: string): JsonObject {
  node[key] ??= {};
  return node[key] as JsonObject;
}
