// A durable on-disk queue of JSON lines for the decision-log shipper: records
// are appended to segment files (0000000000000001.jsonl, …) and read back from
// a cursor (cursor.json, replaced atomically) that moves only once the service
// has taken a batch. Bounded: past `maxBytes` on disk new records are refused
// and counted, never held in memory instead.
//
// What survives what (the fsync policy):
// - a process kill (SIGKILL, OOM): every record `append` returned for — the
//   writes are in the kernel's page cache whatever the policy;
// - a machine crash or power loss: with `always`, every record `append`
//   returned for; with `interval`, all but the last `fsyncIntervalMs`; with
//   `never`, what the kernel happened to write back.
// A batch the service took just before a kill, whose cursor move was not yet
// written, is sent again after the restart: delivery is at least once, and the
// repeat carries the same decision_id (a sink deduplicates on it).

import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface SpoolOptions {
  dir: string;
  /** Bytes on disk (segments) past which new records are refused. */
  maxBytes: number;
  /** A segment is closed and a new one begun past this size. */
  segmentBytes?: number;
  fsync?: FsyncPolicy;
  /** With fsync `interval`: the longest a written record waits for its fsync. */
  fsyncIntervalMs?: number;
}

/** Where the reader is: a segment and a byte offset in it. */
export interface SpoolPosition {
  readonly segment: number;
  readonly offset: number;
}

export interface SpoolBatch {
  readonly lines: string[];
  /** Where the cursor goes once this batch is taken. */
  readonly end: SpoolPosition;
}

const SEGMENT = /^(\d{16})\.jsonl$/;
const CURSOR = 'cursor.json';

export class Spool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #fsync: FsyncPolicy;
  readonly #fsyncIntervalMs: number;
  /** Segment numbers on disk, oldest first; the last one is written to. */
  #segments: number[] = [];
  #sizes = new Map<number, number>();
  #fd: number;
  #cursor: SpoolPosition;
  #records = 0;
  #dirty = false;
  #fsyncTimer: NodeJS.Timeout | undefined;
  /** Lines lost to a torn write (a crash mid-line) found when the spool was opened. */
  readonly torn: number;

  constructor({ dir, maxBytes, segmentBytes = 4 * 1024 * 1024, fsync = 'interval', fsyncIntervalMs = 1000 }: SpoolOptions) {
    this.#dir = dir;
    this.#maxBytes = maxBytes;
    this.#segmentBytes = Math.min(segmentBytes, Math.max(1024, Math.floor(maxBytes / 4)));
    this.#fsync = fsync;
    this.#fsyncIntervalMs = fsyncIntervalMs;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#segments = readdirSync(dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const s of this.#segments) this.#sizes.set(s, statSync(this.#file(s)).size);
    this.#cursor = this.#readCursor();
    // Segments wholly behind the cursor were taken already.
    for (const s of [...this.#segments]) if (s < this.#cursor.segment) this.#remove(s);
    this.torn = this.#repairTail();
    this.#records = this.#countPending();
    // Every start writes a new segment: the old ones are only read from now on.
    const next = (this.#segments.at(-1) ?? 0) + 1;
    this.#segments.push(next);
    this.#sizes.set(next, 0);
    this.#fd = openSync(this.#file(next), 'a', 0o600);
    if (this.#segments.length === 1 || this.#cursor.segment < this.#segments[0]!) this.#cursor = { segment: this.#segments[0]!, offset: 0 };
  }

  /** Records written and not yet taken. */
  get records(): number {
    return this.#records;
  }

  /** Bytes the spool holds on disk. */
  get bytes(): number {
    let n = 0;
    for (const s of this.#sizes.values()) n += s;
    return n;
  }

  /**
   * Appends `lines` (JSON without newlines), in order, as far as the size
   * bound allows; returns how many were refused (the last ones).
   */
  append(lines: readonly string[]): { written: number; refused: number } {
    let written = 0;
    let bytes = this.bytes;
    const chunks: Buffer[] = [];
    for (const line of lines) {
      const b = Buffer.from(`${line}\n`);
      if (bytes + b.length > this.#maxBytes) break;
      chunks.push(b);
      bytes += b.length;
      written++;
    }
    if (chunks.length > 0) {
      for (const b of chunks) {
        if (this.#currentSize() > 0 && this.#currentSize() + b.length > this.#segmentBytes) this.#roll();
        writeSync(this.#fd, b);
        this.#sizes.set(this.#current(), this.#currentSize() + b.length);
      }
      this.#records += written;
      this.#synced();
    }
    return { written, refused: lines.length - written };
  }

  /** Up to `maxLines` lines (and about `maxBytes`, at least one line) from the cursor on; empty when there is nothing. */
  peek(maxLines: number, maxBytes: number): SpoolBatch {
    const lines: string[] = [];
    let { segment, offset } = this.#cursor;
    let budget = maxBytes;
    let whole = false;
    while (lines.length < maxLines) {
      let size = this.#sizes.get(segment);
      if (size === undefined) {
        // The cursor's segment is gone (taken whole): the next one on.
        const next = this.#segments.find((s) => s > segment);
        if (next === undefined) break;
        segment = next;
        offset = 0;
        size = this.#sizes.get(segment)!;
      }
      if (offset >= size) {
        const next = this.#segments.find((s) => s > segment);
        if (next === undefined) break;
        segment = next;
        offset = 0;
        continue;
      }
      const want = Math.min(size - offset, Math.max(budget, 64 * 1024));
      const buf = Buffer.alloc(want);
      const fd = openSync(this.#file(segment), 'r');
      let got: number;
      try {
        got = readSync(fd, buf, 0, want, offset);
      } finally {
        closeSync(fd);
      }
      let start = 0;
      let progressed = false;
      for (let nl = buf.indexOf(10, start); nl !== -1 && nl < got; nl = buf.indexOf(10, start)) {
        const length = nl + 1 - start;
        if (lines.length > 0 && (lines.length >= maxLines || length > budget)) break;
        lines.push(buf.subarray(start, nl).toString('utf8'));
        budget -= length;
        start = nl + 1;
        progressed = true;
        if (whole) break;
      }
      offset += start;
      if (!progressed) {
        // One line larger than what was read: read it whole.
        if (lines.length === 0 && want < size - offset) {
          budget = size - offset;
          whole = true;
          continue;
        }
        break;
      }
      if (budget <= 0 || whole) break;
    }
    return { lines, end: { segment, offset } };
  }

  /** The batch that ended at `end` was taken: moves the cursor there (durably) and removes finished segments. */
  ack(end: SpoolPosition, lines: number): void {
    this.#cursor = end;
    const tmp = path.join(this.#dir, `${CURSOR}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(end));
      if (this.#fsync !== 'never') fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path.join(this.#dir, CURSOR));
    this.#records = Math.max(0, this.#records - lines);
    for (const s of [...this.#segments]) {
      if (s >= end.segment || s === this.#current()) break;
      this.#remove(s);
    }
  }

  /** Writes back what is not yet on disk and closes the segment. */
  close(): void {
    clearTimeout(this.#fsyncTimer);
    this.#fsyncTimer = undefined;
    if (this.#dirty && this.#fsync !== 'never') fsyncSync(this.#fd);
    closeSync(this.#fd);
  }

  #synced(): void {
    if (this.#fsync === 'always') {
      fsyncSync(this.#fd);
      return;
    }
    if (this.#fsync === 'never') return;
    this.#dirty = true;
    this.#fsyncTimer ??= setTimeout(() => {
      this.#fsyncTimer = undefined;
      if (!this.#dirty) return;
      this.#dirty = false;
      try {
        fsyncSync(this.#fd);
      } catch {
        // Closed meanwhile: close() synced it.
      }
    }, this.#fsyncIntervalMs);
    this.#fsyncTimer.unref();
  }

  #current(): number {
    return this.#segments.at(-1)!;
  }

  #currentSize(): number {
    return this.#sizes.get(this.#current()) ?? 0;
  }

  #roll(): void {
    if (this.#fsync !== 'never') fsyncSync(this.#fd);
    closeSync(this.#fd);
    const next = this.#current() + 1;
    this.#segments.push(next);
    this.#sizes.set(next, 0);
    this.#fd = openSync(this.#file(next), 'a', 0o600);
  }

  #file(segment: number): string {
    return path.join(this.#dir, `${String(segment).padStart(16, '0')}.jsonl`);
  }

  #remove(segment: number): void {
    rmSync(this.#file(segment), { force: true });
    this.#segments = this.#segments.filter((s) => s !== segment);
    this.#sizes.delete(segment);
  }

  #readCursor(): SpoolPosition {
    try {
      const c = JSON.parse(readFileSync(path.join(this.#dir, CURSOR), 'utf8')) as SpoolPosition;
      if (Number.isInteger(c.segment) && Number.isInteger(c.offset) && c.offset >= 0) return { segment: c.segment, offset: c.offset };
    } catch {
      // No cursor yet (or a torn one, which a rename never leaves): from the start.
    }
    return { segment: this.#segments[0] ?? 0, offset: 0 };
  }

  /** A crash mid-write leaves a last line without its newline: it is cut off (and counted). */
  #repairTail(): number {
    const last = this.#segments.at(-1);
    if (last === undefined) return 0;
    const size = this.#sizes.get(last)!;
    if (size === 0) return 0;
    const fd = openSync(this.#file(last), 'r+');
    try {
      const tailLength = Math.min(size, 4 * 1024 * 1024);
      const buf = Buffer.alloc(tailLength);
      readSync(fd, buf, 0, tailLength, size - tailLength);
      if (buf[tailLength - 1] === 10) return 0;
      const nl = buf.lastIndexOf(10);
      const keep = nl === -1 ? size - tailLength : size - tailLength + nl + 1;
      ftruncateSync(fd, keep);
      fsyncSync(fd);
      this.#sizes.set(last, fstatSync(fd).size);
      return 1;
    } finally {
      closeSync(fd);
    }
  }

  #countPending(): number {
    let n = 0;
    for (const s of this.#segments) {
      if (s < this.#cursor.segment) continue;
      const buf = readFileSync(this.#file(s));
      const from = s === this.#cursor.segment ? this.#cursor.offset : 0;
      for (let i = buf.indexOf(10, from); i !== -1; i = buf.indexOf(10, i + 1)) n++;
    }
    return n;
  }
}
