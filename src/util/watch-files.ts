// Files that are re-read when they change: the TLS pair in a Secret volume,
// the configuration overlay in a ConfigMap volume. Kubernetes updates such a
// volume by writing a new timestamped directory and swapping the `..data`
// symlink, so the files' own inodes never change: watching a file misses the
// update (and a watch on a file that is renamed away goes dead). The
// directories holding the files are watched instead, every event triggers a
// read after a quiet moment, and a slow poll backs fs.watch up (events get
// lost on network filesystems and past inotify limits). The files are
// delivered only when their contents differ from the last delivery.

import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Each file's contents, or the error reading it gave. */
export type FileContents = ReadonlyMap<string, Buffer | Error>;

export interface WatchFilesOptions {
  /** Quiet time after the last event before reading (ms). */
  debounceMs?: number;
  /** Read again this often without events (ms); 0: no polling. */
  pollMs?: number;
}

export interface WatchedFiles {
  /** The contents as last delivered. */
  readonly current: FileContents;
  /** Reads now and delivers when something changed (also what events and the poll do). */
  check(): Promise<void>;
  close(): void;
}

/** Reads `files` now, delivers them, and again whenever their contents change. */
export async function watchFiles(
  files: readonly string[],
  onChange: (contents: FileContents) => void,
  { debounceMs = 200, pollMs = 10_000 }: WatchFilesOptions = {},
): Promise<WatchedFiles> {
  let current: FileContents = new Map();
  let lastDigest: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let running: Promise<void> = Promise.resolve();

  async function read(): Promise<FileContents> {
    const out = new Map<string, Buffer | Error>();
    for (const f of files) out.set(f, await readFile(f).catch((err: Error) => err));
    return out;
  }

  function check(): Promise<void> {
    running = running.then(async () => {
      if (closed) return;
      const contents = await read();
      const digest = digestOf(contents);
      if (digest === lastDigest) return;
      lastDigest = digest;
      current = contents;
      onChange(contents);
    });
    return running;
  }

  const changed = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), debounceMs);
    timer.unref();
  };
  const watchers: FSWatcher[] = [];
  for (const dir of new Set(files.map((f) => path.dirname(f)))) {
    try {
      const w = watch(dir, { persistent: false }, changed);
      w.on('error', changed);
      watchers.push(w);
    } catch {
      // A directory that does not exist yet (or no file events here): the poll notices.
    }
  }
  // The poll reads at once: were it debounced too, a poll faster than the debounce would never read.
  const poller = pollMs > 0 ? setInterval(() => void check(), pollMs) : undefined;
  poller?.unref();
  await check();
  return {
    get current() {
      return current;
    },
    check,
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(poller);
      for (const w of watchers) w.close();
    },
  };
}

function digestOf(contents: FileContents): string {
  const h = createHash('sha256');
  for (const [file, c] of contents) {
    h.update(file).update('\0');
    if (c instanceof Error) h.update(`error:${(c as NodeJS.ErrnoException).code ?? c.message}`);
    else h.update('ok:').update(c);
    h.update('\0');
  }
  return h.digest('hex');
}
