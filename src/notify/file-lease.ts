// Local mode's answer to the approvals Lease: a lease file in the state
// directory, so of several gateways sharing one directory only one sends
// notifications. The holder renews it every `renewMs`; another process takes
// it over once it has not been renewed for `durationMs`, and leads only after
// reading it back as its own one renewal later (two takers at once: the last
// write wins, the other never starts). A holder that stops removes the file,
// so the next one takes over at once.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Logger } from '../observe/log.js';

export interface FileLeaseOptions {
  durationMs?: number;
  renewMs?: number;
  identity?: string;
  log?: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface LeaseRecord {
  holder: string;
  renewedAt: number;
}

export class FileLease {
  readonly identity: string;
  readonly #file: string;
  readonly #o: Required<Omit<FileLeaseOptions, 'log' | 'identity'>> & { log?: Logger };
  #leading = false;
  #claimed = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(file: string, options: FileLeaseOptions) {
    this.#file = file;
    this.identity = options.identity ?? `${hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
    this.#o = { durationMs: 15_000, renewMs: 2_000, ...options };
  }

  get leading(): boolean {
    return this.#leading;
  }

  start(): void {
    mkdirSync(path.dirname(this.#file), { recursive: true, mode: 0o700 });
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#o.renewMs);
    this.#timer.unref();
  }

  /** Stops leading and gives the lease up. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#read()?.holder === this.identity) rmSync(this.#file, { force: true });
    this.#set(false);
    this.#claimed = false;
  }

  #tick(): void {
    try {
      const now = Date.now();
      const current = this.#read();
      if (current?.holder === this.identity) {
        this.#write({ holder: this.identity, renewedAt: now });
        // Ours since the last renewal: a rival's takeover in between would show here.
        if (this.#claimed) this.#set(true);
        this.#claimed = true;
        return;
      }
      this.#claimed = false;
      if (current && now - current.renewedAt < this.#o.durationMs) {
        this.#set(false);
        return;
      }
      this.#write({ holder: this.identity, renewedAt: now });
      this.#claimed = true;
    } catch (err) {
      this.#o.log?.warn({ file: this.#file, err: (err as Error).message }, 'notifications lease file: cannot read or renew');
    }
  }

  #read(): LeaseRecord | undefined {
    try {
      const r = JSON.parse(readFileSync(this.#file, 'utf8')) as Partial<LeaseRecord>;
      return typeof r.holder === 'string' && typeof r.renewedAt === 'number' ? (r as LeaseRecord) : undefined;
    } catch {
      return undefined;
    }
  }

  #write(r: LeaseRecord): void {
    const tmp = `${this.#file}.${this.identity}.tmp`;
    writeFileSync(tmp, JSON.stringify(r), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }

  #set(leading: boolean): void {
    if (leading === this.#leading) return;
    this.#leading = leading;
    this.#o.log?.info(
      { file: this.#file, identity: this.identity },
      leading ? 'notifications: holding the local lease' : 'notifications: released the local lease',
    );
    if (leading) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }
}
