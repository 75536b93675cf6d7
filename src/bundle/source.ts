// Where bundles come from: a file, a watched directory (watch.ts), or an
// HTTP bundle server (http.ts). Every source hands plain updates (bytes or
// files, or an error) to the same read → verify → parse pipeline, and the
// sync (sync.ts) activates what passes.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BelayError } from '../errors.js';
import { type ArchiveFiles, type ArchiveLimits, readArchive } from './archive.js';
import { type Bundle, bundleFromFiles } from './bundle.js';
import { type VerificationConfig, type VerifiedSignature, verifyBundleSignature } from './verify.js';

/** What a source delivers: a bundle's bytes (an archive) or files (a directory), or why it has none. */
export type BundleUpdate =
  | { readonly origin: string; readonly archive: Uint8Array; readonly etag?: string }
  | { readonly origin: string; readonly files: ArchiveFiles; readonly digest: string }
  | { readonly origin: string; readonly error: BelayError };

export interface BundleSource {
  /** "file /etc/belay/bundle.tar.gz", "directory …", "https://…". */
  readonly description: string;
  /**
   * Starts delivering updates to `deliver`, one at a time (the next waits for
   * the previous to be handled). Resolves once the first update was handled.
   */
  start(deliver: (update: BundleUpdate) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

export interface LoadOptions {
  /** Keys to verify .signatures.json with; null accepts unsigned bundles only (as OPA without keys). */
  verification?: VerificationConfig | null;
  limits?: ArchiveLimits;
}

export interface LoadedBundle {
  bundle: Bundle;
  signature: VerifiedSignature | null;
}

/** Read → verify → parse, OPA's order: nothing is parsed from a bundle whose signature fails. */
export async function loadBundle(update: Exclude<BundleUpdate, { error: BelayError }>, options: LoadOptions = {}): Promise<LoadedBundle> {
  const files = 'archive' in update ? await readArchive(update.archive, options.limits) : update.files;
  const signature = await verifyBundleSignature(files, options.verification ?? null);
  const digest = 'archive' in update ? createHash('sha256').update(update.archive).digest('hex') : update.digest;
  return { bundle: bundleFromFiles(files, digest), signature };
}

/** Reads and verifies a bundle file once (no watching). */
export async function readBundleFile(file: string, options: LoadOptions = {}): Promise<Bundle> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new BelayError('bundle_invalid', `cannot read bundle ${file}: ${(err as Error).message}; build one with "make bundle"`, { cause: err });
  }
  return (await loadBundle({ origin: file, archive: bytes }, options)).bundle;
}

/** A bundle file read once at start. */
export function fileSource(file: string): BundleSource {
  return {
    description: `file ${file}`,
    async start(deliver) {
      let archive: Buffer;
      try {
        archive = await readFile(file);
      } catch (err) {
        await deliver({ origin: file, error: new BelayError('bundle_invalid', `cannot read bundle ${file}: ${(err as Error).message}`, { cause: err }) });
        return;
      }
      await deliver({ origin: file, archive });
    },
    async stop() {},
  };
}

/** A digest of a directory bundle's files: names and contents, order-independent. */
export function filesDigest(files: ArchiveFiles): string {
  const h = createHash('sha256');
  for (const name of [...files.keys()].sort()) {
    h.update(name)
      .update('\0')
      .update(createHash('sha256').update(files.get(name)!).digest())
      .update('\0');
  }
  return h.digest('hex');
}
