// ApprovalRequests without a cluster: one JSON file per request under
// <state-dir>/approvals/<namespace>/<name>.json. Every write goes to a temp
// file that is fsynced, then renamed (or hard-linked, for an exclusive
// create) over the record, and the directory is fsynced, so a crash leaves
// either the old record or the new one — never a torn one. The gateway and
// the CLI may write at the same time: updates take a per-record lock
// directory (mkdir is atomic) and check resourceVersion, as the API server would.
//
// Lookups by target (every deferred request makes one) and by requester (the
// cap on open requests) cost the same however many records the store holds:
// beside the records, an empty marker file per record names it under its
// target (<namespace>/.targets/<target>/<name>) and its requester
// (.requesters/<requester>/<namespace>.<name>), written before the record and
// removed after it, so a lookup lists one small directory and reads only its
// records — each again only when its stat (inode, size, times) changed, and
// every time while it changed too recently for an unchanged stat to prove
// anything (RACY_MS: timestamps are coarse). Other processes (the CLI, a
// second gateway) write the same directory, so nothing is trusted on memory
// alone. A store written before markers existed is indexed once, when opened.
//
// list() (the console, the controller, the CLI) reads a namespace directory,
// re-reading only the files whose stat changed.

import { randomBytes, randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { type FileHandle, link, mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BelayError } from '../errors.js';
import type { AgentSelector, UserInfo } from '../identity/agents.js';
import { type ApprovalRequest, isNamespaceName, isObjectName, LABELS, rfc3339 } from './resource.js';
import { checkStatusChange, decidedStatus, type ReviewContext } from './separation.js';
import type { ApprovalStore, HumanDecision } from './store.js';

export interface LocalStoreOptions {
  /**
   * Who counts as an agent when a decision is checked: the active bundle's
   * selector. Undefined (no bundle active, or none given) refuses every
   * decision: without it an agent could approve.
   */
  agents?: () => AgentSelector | undefined;
  now?: () => Date;
  /** How long to wait for another writer's lock before giving up. */
  lockTimeoutMs?: number;
  /** Told about records that cannot be read (they are skipped by list). */
  onCorrupt?: (file: string, error: string) => void;
  /**
   * The wall clock (ms) that files are stamped by, against which the index
   * judges whether a change is old enough to trust an unchanged timestamp;
   * tests move it forward. (`now` is the approvals' own clock, often fake.)
   */
  clock?: () => number;
}

/** Tells this process's locks from those of an earlier process with the same pid. */
const INCARNATION = randomUUID();
/** Temp files older than this belong to a writer that died; younger ones may be in flight. */
const STALE_TEMP_MS = 60_000;
/** A lock held longer than this was left by a crashed writer (writes take milliseconds). */
const STALE_LOCK_MS = 30_000;
/**
 * A change this recent may share its timestamp with a later one: Linux stamps
 * files from a clock that ticks every few milliseconds, and some filesystems
 * keep whole seconds (FAT: two). Past it, a new change shows as a new time.
 */
export const RACY_MS = 2_000;

/** The identity and times of a file or directory as stat saw them; equal keys mean unchanged. */
type StatKey = string;

function statKey(s: BigIntStats): StatKey {
  return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** One record file as the index last read it. */
interface IndexedFile {
  readonly key: StatKey;
  /** The file changed long enough before it was read that an equal key means equal content. */
  readonly settled: boolean;
  readonly record?: ApprovalRequest;
  /** Why the file could not be read, reported on every list like a fresh read would. */
  readonly corrupt?: string;
}

/** What the store last read of one namespace directory. */
interface NamespaceIndex {
  /** The directory's stat key taken before its entries were read. */
  readonly key: StatKey;
  readonly settled: boolean;
  /** When the directory was stat-ed for this read (ms), to keep the newest of two concurrent reads. */
  readonly readAt: number;
  /** By file name, in name order. */
  readonly files: ReadonlyMap<string, IndexedFile>;
}

/** Marker directories beside the records (names start with a dot: never a namespace or a record). */
const TARGETS = '.targets';
const REQUESTERS = '.requesters';
/** Written once every record has its markers. */
const INDEXED = '.indexed-v1';

export class LocalApprovalStore implements ApprovalStore {
  readonly kind = 'local' as const;
  readonly location: string;
  #root: string;
  #options: LocalStoreOptions;
  #chains = new Map<string, Promise<unknown>>();
  #index = new Map<string, NamespaceIndex>();
  /** Records read by lookups, by path: read again only when their stat changes. */
  #records = new Map<string, IndexedFile>();
  #filesRead = 0;
  #lookupOps = 0;

  private constructor(root: string, options: LocalStoreOptions) {
    this.#root = root;
    this.location = root;
    this.#options = options;
  }

  /** Opens (creating) the store under `stateDir`, clearing temp files left by a crash, indexing records that predate the markers. */
  static async open(stateDir: string, options: LocalStoreOptions = {}): Promise<LocalApprovalStore> {
    const root = path.resolve(stateDir, 'approvals');
    await mkdir(root, { recursive: true, mode: 0o700 });
    const store = new LocalApprovalStore(root, options);
    await store.#sweepTemps();
    await store.#indexOnce();
    return store;
  }

  /** Record files read from disk by lookups and lists since the store opened (each changed file once). */
  get filesRead(): number {
    return this.#filesRead;
  }

  /** File-system calls lookups by target or requester made (directories listed, files stat-ed or read): what a deferred request costs. */
  get lookupOps(): number {
    return this.#lookupOps;
  }

  async listByTarget(namespace: string, target: string): Promise<ApprovalRequest[]> {
    const ns = checkNamespace(namespace);
    // Keys are digests; anything else names no request (and never a path).
    if (!isKey(target)) return [];
    this.#lookupOps++;
    const names = await markers(path.join(this.#root, ns, TARGETS, target));
    return this.#readRecords(names.map((name) => path.join(this.#root, ns, `${name}.json`)));
  }

  /** Every request by one requester (label belay.dev/requester), in every namespace. */
  async listByRequester(requester: string): Promise<ApprovalRequest[]> {
    if (!isKey(requester)) return [];
    this.#lookupOps++;
    const names = await markers(path.join(this.#root, REQUESTERS, requester));
    return this.#readRecords(
      names.flatMap((m) => {
        const dot = m.indexOf('.');
        const ns = m.slice(0, dot);
        const name = m.slice(dot + 1);
        return dot > 0 && isNamespaceName(ns) && isObjectName(name) ? [path.join(this.#root, ns, `${name}.json`)] : [];
      }),
    );
  }

  /** The records at `files` (those that exist), each read again only when its stat changed. */
  async #readRecords(files: string[]): Promise<ApprovalRequest[]> {
    const recent = BigInt(this.#clock() - RACY_MS) * 1_000_000n;
    const read = await Promise.all(
      files.map(async (file) => {
        this.#lookupOps++;
        const s = await statOf(file);
        if (!s) {
          this.#records.delete(file);
          return undefined;
        }
        const known = this.#records.get(file);
        if (known?.settled && known.key === statKey(s)) return known;
        this.#filesRead++;
        this.#lookupOps++;
        let entry: IndexedFile | undefined;
        try {
          entry = await readIndexed(file, recent);
        } catch (err) {
          entry = { key: statKey(s), settled: false, corrupt: (err as Error).message };
        }
        if (entry) this.#records.set(file, entry);
        else this.#records.delete(file);
        if (entry?.corrupt) this.#options.onCorrupt?.(file, entry.corrupt);
        return entry;
      }),
    );
    return read.flatMap((e) => (e?.record ? [e.record] : []));
  }

  /** Every record, stat-ed afresh (records edited in place included); only changed files are read again. */
  async list(namespace?: string): Promise<ApprovalRequest[]> {
    const namespaces = namespace !== undefined ? [checkNamespace(namespace)] : await this.#namespaces();
    const out: ApprovalRequest[] = [];
    for (const ns of namespaces) {
      const statAt = this.#clock();
      const dirStat = await statOf(path.join(this.#root, ns));
      const index = dirStat ? await this.#read(ns, dirStat, statAt) : undefined;
      if (!index) {
        this.#index.delete(ns);
        continue;
      }
      this.#reportCorrupt(ns, index);
      for (const f of index.files.values()) if (f.record) out.push(f.record);
    }
    return out;
  }

  async get(namespace: string, name: string): Promise<ApprovalRequest | undefined> {
    return readRecord(this.#file(namespace, name));
  }

  async create(request: ApprovalRequest): Promise<{ request: ApprovalRequest; created: boolean }> {
    const file = this.#file(request.metadata.namespace, request.metadata.name);
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // Markers first: a crash in between leaves a marker without a record, which lookups skip.
    await this.#mark(request);
    const stored: ApprovalRequest = {
      ...request,
      metadata: { ...request.metadata, uid: randomUUID(), resourceVersion: '1', creationTimestamp: rfc3339(this.#now()) },
      status: { phase: 'Pending' },
    };
    if (await writeAtomic(file, stored, true)) return { request: stored, created: true };
    const existing = await readRecord(file);
    if (!existing) throw new BelayError('internal', `approval ${request.metadata.namespace}/${request.metadata.name} exists but cannot be read`);
    return { request: existing, created: false };
  }

  async replaceStatus(request: ApprovalRequest): Promise<ApprovalRequest> {
    const { namespace, name } = request.metadata;
    return this.#update(namespace, name, (current) => {
      if (current.metadata.resourceVersion !== request.metadata.resourceVersion) {
        throw new BelayError(
          'conflict',
          `approval ${namespace}/${name} changed since it was read (resourceVersion ${current.metadata.resourceVersion}, not ${request.metadata.resourceVersion})`,
        );
      }
      return { ...current, status: request.status ?? { phase: 'Pending' } };
    });
  }

  async decide(namespace: string, name: string, decision: HumanDecision, as: UserInfo): Promise<ApprovalRequest> {
    const agents = this.#options.agents?.();
    if (!agents) {
      throw new BelayError(
        'not_ready',
        'belay has no active policy bundle, so it cannot tell agents from approvers: no approval can be decided until one is active',
      );
    }
    return this.#update(namespace, name, (current) => {
      const ctx: ReviewContext = { gatewayUser: undefined, agents, now: this.#now() };
      const status = decidedStatus(current, decision, as, ctx);
      const check = checkStatusChange(current, { ...current, status }, as, ctx);
      if (!check.ok) throw new BelayError('forbidden', check.message);
      return { ...current, status };
    });
  }

  async delete(namespace: string, name: string, options: { resourceVersion?: string } = {}): Promise<boolean> {
    const file = this.#file(namespace, name);
    return this.#locked(file, async () => {
      const current = await readRecord(file);
      if (!current) return false;
      if (options.resourceVersion !== undefined && current.metadata.resourceVersion !== options.resourceVersion) {
        throw new BelayError(
          'conflict',
          `approval ${namespace}/${name} changed since it was read (resourceVersion ${current.metadata.resourceVersion}, not ${options.resourceVersion})`,
        );
      }
      await unlink(file);
      await syncDir(path.dirname(file));
      await this.#unmark(current);
      return true;
    });
  }

  /** The marker files that name a record under its target and requester. */
  #markers(r: ApprovalRequest): string[] {
    const { namespace, name, labels } = r.metadata;
    const out: string[] = [];
    const target = labels?.[LABELS.target];
    const requester = labels?.[LABELS.requester];
    if (target !== undefined && isKey(target)) out.push(path.join(this.#root, namespace, TARGETS, target, name));
    if (requester !== undefined && isKey(requester)) out.push(path.join(this.#root, REQUESTERS, requester, `${namespace}.${name}`));
    return out;
  }

  async #mark(r: ApprovalRequest): Promise<void> {
    for (const marker of this.#markers(r)) {
      await mkdir(path.dirname(marker), { recursive: true, mode: 0o700 });
      await writeFile(marker, '', { mode: 0o600 });
    }
  }

  async #unmark(r: ApprovalRequest): Promise<void> {
    for (const marker of this.#markers(r)) await unlink(marker).catch(() => undefined);
  }

  /** Gives every record its markers, once per store directory (a store written before markers existed). */
  async #indexOnce(): Promise<void> {
    const stamp = path.join(this.#root, INDEXED);
    if (await statOf(stamp)) return;
    for (const r of await this.list()) await this.#mark(r);
    await writeFile(stamp, `${new Date().toISOString()}\n`, { mode: 0o600 });
  }

  /** Read, change and write one record under its lock, bumping resourceVersion. */
  async #update(namespace: string, name: string, change: (current: ApprovalRequest) => ApprovalRequest): Promise<ApprovalRequest> {
    const file = this.#file(namespace, name);
    return this.#locked(file, async () => {
      const current = await readRecord(file);
      if (!current) throw new BelayError('not_found', `approval ${namespace}/${name} not found in ${this.location}`);
      const next = change(current);
      const version = String(Number(current.metadata.resourceVersion ?? '0') + 1);
      const stored: ApprovalRequest = { ...next, metadata: { ...current.metadata, resourceVersion: version } };
      await writeAtomic(file, stored, false);
      return stored;
    });
  }

  /** One writer per record: a promise chain in this process, a lock directory across processes. */
  async #locked<T>(file: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(file) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(async () => {
        const lock = path.join(path.dirname(file), `.${path.basename(file)}.lock`);
        await acquireLock(lock, this.#options.lockTimeoutMs ?? 10_000);
        try {
          return await fn();
        } finally {
          await rm(lock, { recursive: true, force: true });
        }
      });
    this.#chains.set(file, run);
    try {
      return await run;
    } finally {
      if (this.#chains.get(file) === run) this.#chains.delete(file);
    }
  }

  /**
   * Reads a namespace directory into a new index: its entries, then each
   * record file whose stat key differs from what the index holds (or that
   * was read too soon after it changed to be trusted). `dirStat` is taken
   * (at `statAt`) before the entries are read, so a change made meanwhile
   * shows as a changed key next time. Undefined when the directory is gone.
   */
  async #read(ns: string, dirStat: BigIntStats, readAt: number): Promise<NamespaceIndex | undefined> {
    const dir = path.join(this.#root, ns);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if (code(err) === 'ENOENT') return undefined;
      throw err;
    }
    const previous = this.#index.get(ns);
    const recent = BigInt(readAt - RACY_MS) * 1_000_000n;
    const read = await Promise.all(
      names
        .filter((f) => !f.startsWith('.') && f.endsWith('.json'))
        .sort()
        .map(async (f): Promise<[string, IndexedFile | undefined]> => {
          const file = path.join(dir, f);
          const s = await statOf(file);
          if (!s) return [f, undefined];
          const known = previous?.files.get(f);
          if (known?.settled && known.key === statKey(s)) return [f, known];
          this.#filesRead++;
          try {
            return [f, await readIndexed(file, recent)];
          } catch (err) {
            // Unreadable (permissions…): reported like a damaged record, and tried again next time.
            return [f, { key: statKey(s), settled: false, corrupt: (err as Error).message }];
          }
        }),
    );
    const files = new Map<string, IndexedFile>();
    for (const [f, entry] of read) if (entry) files.set(f, entry);
    const index: NamespaceIndex = { key: statKey(dirStat), settled: dirStat.mtimeNs < recent && dirStat.ctimeNs < recent, readAt, files };
    // Of two reads running at once, the one that started later wins.
    const current = this.#index.get(ns);
    if (!current || current.readAt <= readAt) this.#index.set(ns, index);
    return index;
  }

  #reportCorrupt(ns: string, index: NamespaceIndex): void {
    if (!this.#options.onCorrupt) return;
    for (const [f, entry] of index.files) if (entry.corrupt) this.#options.onCorrupt(path.join(this.#root, ns, f), entry.corrupt);
  }

  #file(namespace: string, name: string): string {
    if (!isObjectName(name)) throw new BelayError('bad_request', `${JSON.stringify(name)} is not a valid ApprovalRequest name`);
    return path.join(this.#root, checkNamespace(namespace), `${name}.json`);
  }

  async #namespaces(): Promise<string[]> {
    const entries = await readdir(this.#root, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && isNamespaceName(e.name))
      .map((e) => e.name)
      .sort();
  }

  async #sweepTemps(): Promise<void> {
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const ns of await this.#namespaces()) {
      const dir = path.join(this.#root, ns);
      for (const f of await readdir(dir)) {
        if (!f.startsWith('.') || !f.endsWith('.tmp')) continue;
        const file = path.join(dir, f);
        const s = await stat(file).catch(() => undefined);
        if (s && s.mtimeMs < cutoff) await unlink(file).catch(() => undefined);
      }
    }
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }

  #clock(): number {
    return this.#options.clock?.() ?? Date.now();
  }
}

/** stat with nanosecond times; undefined when the path is gone. */
async function statOf(file: string): Promise<BigIntStats | undefined> {
  try {
    return await stat(file, { bigint: true });
  } catch (err) {
    if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * Reads one record with the stat of the very file read (one open handle), so
 * the key and the content agree. Records are frozen: the index hands the same
 * objects to every caller, and a caller that changed one would change what
 * the next caller sees.
 */
async function readIndexed(file: string, recent: bigint): Promise<IndexedFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  }
  let s: BigIntStats;
  let text: string;
  try {
    s = await handle.stat({ bigint: true });
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  const base = { key: statKey(s), settled: s.mtimeNs < recent && s.ctimeNs < recent };
  try {
    return { ...base, record: deepFreeze(parseRecord(file, text)) };
  } catch (err) {
    return { ...base, corrupt: (err as Error).message };
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Target and requester keys are hex digests (fingerprint.ts): safe as a file name. */
function isKey(s: string): boolean {
  return /^[0-9a-f]{8,64}$/.test(s);
}

/** The names in a marker directory; none when it does not exist. */
async function markers(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if (code(err) === 'ENOENT' || code(err) === 'ENOTDIR') return [];
    throw err;
  }
}

function checkNamespace(namespace: string): string {
  if (!isNamespaceName(namespace)) throw new BelayError('bad_request', `${JSON.stringify(namespace)} is not a valid namespace name`);
  return namespace;
}

async function readRecord(file: string): Promise<ApprovalRequest | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  }
  return parseRecord(file, text);
}

function parseRecord(file: string, text: string): ApprovalRequest {
  try {
    const r = JSON.parse(text) as ApprovalRequest;
    if (typeof r !== 'object' || r === null || typeof r.metadata?.name !== 'string' || typeof r.spec !== 'object') throw new Error('not an ApprovalRequest');
    return r;
  } catch (err) {
    // Writes are atomic, so this is damage from outside belay: refuse rather than guess.
    throw new BelayError('internal', `approval record ${file} is unreadable (${(err as Error).message}); move it aside to let belay continue`);
  }
}

/**
 * Temp file, fsync, then rename over the record (or hard-link, which fails
 * when the record exists, for an exclusive create), then fsync the directory
 * so the new name survives a power loss. Returns false when `exclusive` and
 * the record already exists.
 */
async function writeAtomic(file: string, value: unknown, exclusive: boolean): Promise<boolean> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(value)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (exclusive) {
      try {
        await link(temp, file);
      } catch (err) {
        if (code(err) === 'EEXIST') return false;
        throw err;
      }
    } else {
      await rename(temp, file);
    }
  } finally {
    if (exclusive) await unlink(temp).catch(() => undefined);
  }
  await syncDir(dir);
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function acquireLock(lock: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
    try {
      await mkdir(lock);
      await writeFile(path.join(lock, 'owner'), `${process.pid} ${INCARNATION}\n`);
      return;
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
    }
    if (await isStaleLock(lock)) {
      // Rename first: of two processes breaking the same stale lock, one wins the rename.
      const aside = `${lock}.${randomBytes(4).toString('hex')}.stale`;
      if (
        await rename(lock, aside).then(
          () => true,
          () => false,
        )
      )
        await rm(aside, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new BelayError('conflict', `timed out waiting for ${lock}; if no belay process is running, remove it`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

async function isStaleLock(lock: string): Promise<boolean> {
  const s = await stat(lock).catch(() => undefined);
  if (!s) return false;
  if (Date.now() - s.mtimeMs > STALE_LOCK_MS) return true;
  const [pidText = '', incarnation] = (await readFile(path.join(lock, 'owner'), 'utf8').catch(() => '')).trim().split(/\s+/);
  const pid = Number(pidText);
  // No owner yet: a writer between mkdir and writing its pid, unless that was long ago.
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - s.mtimeMs > 2_000;
  // Our pid: ours if it is this incarnation's, else left by an earlier process that had the same pid
  // (a restarted container's gateway is pid 1 every time), which is gone.
  if (pid === process.pid) return incarnation !== INCARNATION;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return code(err) === 'ESRCH';
  }
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
