// Reads a bundle archive (.tar.gz) into memory as a map of files. Only the
// reading lives here; what the files mean is bundle.ts's job.

import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { BelayError } from '../errors.js';

export interface ArchiveLimits {
  /** Largest compressed archive accepted. */
  maxArchiveBytes: number;
  /**
   * Largest total once decompressed. Checked while inflating, so a small
   * archive that expands enormously (a gzip bomb) is refused before it fills memory.
   */
  maxExpandedBytes: number;
  /** Largest single file. */
  maxFileBytes: number;
}

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  maxArchiveBytes: 64 * 1024 * 1024,
  maxExpandedBytes: 256 * 1024 * 1024,
  maxFileBytes: 128 * 1024 * 1024,
};

/** Bundle-relative file paths ("/policy.wasm") to their bytes. */
export type ArchiveFiles = Map<string, Buffer>;

export async function readArchive(archive: Uint8Array, limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS): Promise<ArchiveFiles> {
  if (archive.byteLength > limits.maxArchiveBytes) {
    throw new BelayError('bundle_invalid', `bundle archive is ${archive.byteLength} bytes, over the ${limits.maxArchiveBytes} byte limit`);
  }
  let tarBytes: Buffer;
  try {
    tarBytes = gunzipSync(archive, { maxOutputLength: limits.maxExpandedBytes });
  } catch (err) {
    const why = err instanceof RangeError ? `expands past ${limits.maxExpandedBytes} bytes` : 'is not a gzip file';
    throw new BelayError('bundle_invalid', `bundle archive ${why}`, { cause: err });
  }

  const files: ArchiveFiles = new Map();
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: function collect(entry: ReadEntry) {
        if (entry.type !== 'File' && entry.type !== 'OldFile') {
          entry.resume();
          return;
        }
        let name: string;
        try {
          name = normalisePath(entry.path);
        } catch (err) {
          reject(err);
          entry.resume();
          return;
        }
        if ((entry.size ?? 0) > limits.maxFileBytes) {
          reject(new BelayError('bundle_invalid', `bundle file ${name} is ${entry.size} bytes, over the ${limits.maxFileBytes} byte limit`));
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        pending.push(
          new Promise<void>((done) => {
            entry.on('data', (c: Buffer) => chunks.push(c));
            entry.on('end', () => {
              if (files.has(name)) reject(new BelayError('bundle_invalid', `bundle has ${name} twice`));
              files.set(name, Buffer.concat(chunks));
              done();
            });
          }),
        );
      },
    });
    parser.on('error', (err: Error) => reject(new BelayError('bundle_invalid', `bundle archive is not a valid tar file: ${err.message}`, { cause: err })));
    parser.on('end', () => {
      Promise.all(pending).then(() => resolve(), reject);
    });
    parser.end(tarBytes);
  });
  return files;
}

/** "./a/b", "a/b" and "/a/b" all name "/a/b"; ".." is refused. */
function normalisePath(p: string): string {
  const parts = p
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new BelayError('bundle_invalid', `bundle path ${JSON.stringify(p)} escapes the bundle root`);
  return `/${parts.join('/')}`;
}
