// A bundle on disk that is watched for changes: a .tar.gz file, or a
// directory holding either an unpacked bundle (.manifest, policy.wasm,
// data.json…) or one bundle archive. This is how GitOps tools deliver it: a
// ConfigMap or Secret volume (files swapped atomically through the ..data
// symlink), git-sync, or a CI job copying a new build in place.
//
// fs.watch says something changed, never what; after a quiet moment
// (debounce, so a half-written file is not read) the bundle is read again and
// delivered only when its digest differs. A slow poll backs fs.watch up,
// because watch events can be lost (network filesystems, inotify limits).

import { createHash } from 'node:crypto';
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { BelayError } from '../errors.js';
import type { ArchiveFiles } from './archive.js';
import { type BundleSource, type BundleUpdate, filesDigest } from './source.js';

export interface WatchOptions {
  /** Quiet time after the last change before reading (ms). */
  debounceMs?: number;
  /** Re-read this often even without events (ms); 0 turns polling off. */
  pollMs?: number;
  /** Largest file read from an unpacked directory (bytes). */
  maxFileBytes?: number;
}

const ARCHIVE = /\.tar\.gz$|\.tgz$/;

/** Watches a bundle file or directory; see the file comment. */
export function watchSource(target: string, { debounceMs = 250, pollMs = 10_000, maxFileBytes = 128 * 1024 * 1024 }: WatchOptions = {}): BundleSource {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let poller: NodeJS.Timeout | undefined;
  let stopped = false;
  let lastDigest = '';
  let lastError = '';
  let running: Promise<void> = Promise.resolve();
  let deliver: (u: BundleUpdate) => Promise<void> = async () => {};

  async function read(): Promise<BundleUpdate> {
    try {
      const st = await stat(target);
      if (st.isFile()) return { origin: target, archive: await readFile(target) };
      if (!st.isDirectory()) throw new Error('not a file or directory');
      const entries = (await readdir(target)).filter((n) => !n.startsWith('..'));
      if (entries.includes('.manifest') || entries.includes('policy.wasm')) {
        const files = await readTree(target, maxFileBytes);
        return { origin: target, files, digest: filesDigest(files) };
      }
      const archives = entries.filter((n) => ARCHIVE.test(n)).sort();
      const pick = archives.includes('bundle.tar.gz') ? 'bundle.tar.gz' : archives.length === 1 ? archives[0] : undefined;
      if (!pick) {
        throw new Error(
          archives.length === 0
            ? 'it holds neither an unpacked bundle (.manifest, policy.wasm) nor a bundle archive (*.tar.gz)'
            : `it holds several bundle archives (${archives.join(', ')}); name the one to serve bundle.tar.gz`,
        );
      }
      const file = path.join(target, pick);
      return { origin: file, archive: await readFile(file) };
    } catch (err) {
      return { origin: target, error: new BelayError('bundle_invalid', `cannot read bundle ${target}: ${(err as Error).message}`, { cause: err }) };
    }
  }

  /** Reads and delivers when something changed; runs one at a time. */
  function check(): Promise<void> {
    running = running.then(async () => {
      if (stopped) return;
      const update = await read();
      if ('error' in update) {
        // A missing or unreadable bundle is reported once, not on every poll.
        if (update.error.message === lastError) return;
        lastError = update.error.message;
        lastDigest = '';
      } else {
        const digest = 'digest' in update ? update.digest : createHash('sha256').update(update.archive).digest('hex');
        if (digest === lastDigest) return;
        lastDigest = digest;
        lastError = '';
      }
      await deliver(update);
    });
    return running;
  }

  function changed(): void {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
    timer.unref();
  }

  return {
    description: `watched ${target}`,
    async start(fn) {
      deliver = fn;
      // Watch the directory itself, or a file's directory: an atomic rename replaces the file's inode.
      const dir = existsSync(target) && (await stat(target)).isDirectory() ? target : path.dirname(target);
      const name = path.basename(target);
      try {
        watcher = watch(dir, { recursive: dir === target, persistent: false }, (_event, file) => {
          if (dir === target || file === null || file === name || String(file).startsWith('..')) changed();
        });
        watcher.on('error', () => changed());
      } catch {
        // Without file events the poll still notices changes.
      }
      if (pollMs > 0) {
        poller = setInterval(() => void check(), pollMs);
        poller.unref();
      }
      await check();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(poller);
      watcher?.close();
      await running;
    },
  };
}

/** Every file under `dir` by bundle path ("/data.json"), skipping the ..data machinery of Kubernetes volumes. */
async function readTree(dir: string, maxFileBytes: number): Promise<ArchiveFiles> {
  const files: ArchiveFiles = new Map();
  const walk = async (d: string, prefix: string): Promise<void> => {
    for (const entry of (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith('..')) continue;
      const p = path.join(d, entry.name);
      // Volume files are symlinks into ..data: follow them.
      const st = await stat(p);
      if (st.isDirectory()) await walk(p, `${prefix}/${entry.name}`);
      else if (st.isFile()) {
        if (st.size > maxFileBytes) throw new Error(`${p} is ${st.size} bytes, over the ${maxFileBytes} byte limit`);
        files.set(`${prefix}/${entry.name}`, await readFile(p));
      }
    }
  };
  await walk(dir, '');
  return files;
}
