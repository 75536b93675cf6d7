// Evaluation off the event loop: a pool of worker threads per bundle
// revision, each holding one wasm instance. The event loop only serialises
// the input (JSON bytes, transferred, not cloned) and routes answers, so a
// slow or runaway policy never stalls HTTP serving. An evaluation that runs
// past its budget is cut off by replacing its worker, and refused as
// `evaluation_failed` so the caller fails closed. Evaluations waiting for a
// worker are served requester by requester, so one agent's heavy or many
// inputs never make another agent's small call wait past its budget. On
// /mutate the worker also runs the fix pipeline (apply, schema check,
// evaluate the fixed object), so the request makes one hand-off and its
// budget covers all of it.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Bundle } from '../bundle/bundle.js';
import type { Face, PolicyInput } from '../contract/index.js';
import { BelayError } from '../errors.js';
import type { EvaluateOptions, Evaluation, Evaluator, PrepareEvaluator } from './evaluator.js';
import { FairQueue } from './fair-queue.js';
import type { EvaluateMessage, InventoryMessage, WorkerInit, WorkerMessage } from './worker.js';

export interface PoolOptions {
  /** Worker threads (wasm instances) per bundle revision; defaults to the cores. */
  size?: number;
  /**
   * Longest one evaluation may run before its worker is replaced and the
   * request refused; also the longest it may wait for a free worker. Keep it
   * well under the API server's webhook timeout (5 s in manifests/).
   */
  timeoutMs?: number;
  /** Evaluations allowed to wait for a worker; more are refused at once (overload). */
  maxQueue?: number;
  /**
   * Evaluations one requester may have waiting (default: an eighth of
   * maxQueue); past it that requester is refused at once, and nobody else is.
   */
  maxQueuePerRequester?: number;
  /** Faces the bundle must have an entrypoint for. */
  requiredFaces?: readonly Face[];
  /** Told when a worker is replaced (timeout or crash), for logs and metrics. */
  onWorkerReplaced?: (event: WorkerReplaced) => void;
  /** Told as the pool's state changes (metrics); never asked per scrape. */
  gauges?: PoolGauges;
}

/**
 * Changes in a pool's state, as they happen. Every pool adds its own share,
 * so the pools serving side by side during a bundle swap add up.
 */
export interface PoolGauges {
  /** Workers running an evaluation. */
  busy(delta: number): void;
  /** Evaluations waiting for a worker. */
  queued(delta: number): void;
  /** Live workers. */
  workers(delta: number): void;
}

export interface WorkerReplaced {
  readonly revision: string;
  readonly reason: 'timeout' | 'crash';
  readonly message: string;
}

export interface PoolStats {
  readonly size: number;
  readonly busy: number;
  readonly queued: number;
  readonly replaced: number;
}

export const DEFAULT_EVAL_TIMEOUT_MS = 1_000;
export const DEFAULT_MAX_QUEUE = 4_096;

/** A PrepareEvaluator for PolicyStore: one pool per activated bundle. */
export function workerPoolEvaluator(options: PoolOptions = {}): PrepareEvaluator {
  return function prepare(bundle) {
    return EvaluatorPool.start(bundle, options);
  };
}

interface Job {
  readonly id: number;
  /** Who asked: waiting jobs are served requester by requester. */
  readonly requester: string;
  readonly face: Face;
  readonly fix: boolean;
  input: ArrayBuffer | null;
  readonly resolve: (r: Evaluation) => void;
  readonly reject: (e: BelayError) => void;
  timer: NodeJS.Timeout | undefined;
  /** Answered (or refused); a worker may still be running it. */
  settled: boolean;
}

interface Slot {
  readonly worker: Worker;
  /** Jobs posted to this worker, in the order it runs them; the first is running. */
  readonly jobs: Job[];
  /** Set once the worker is being replaced: its events no longer count. */
  retired: boolean;
}

/**
 * Jobs posted to one worker at a time: the one it runs and the next, so a
 * busy worker goes straight on to the next job instead of sleeping until the
 * event loop, busy with HTTP, gets round to handing it one.
 */
const DEPTH = 2;

export class EvaluatorPool implements Evaluator {
  readonly revision: string;
  readonly builtins: readonly string[];
  readonly faces: ReadonlySet<Face>;
  readonly size: number;
  readonly timeoutMs: number;

  readonly #init: WorkerInit;
  readonly #maxQueue: number;
  readonly #maxPerRequester: number;
  readonly #onReplaced: PoolOptions['onWorkerReplaced'];
  readonly #gauges: PoolGauges | undefined;
  readonly #slots: Slot[] = [];
  /** Jobs waiting for a worker, served round robin by requester (fair-queue.ts). */
  readonly #queue = new FairQueue<Job>();
  #nextId = 1;
  #replaced = 0;
  #closing: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  /** The latest data.inventory, also given to workers started later. */
  #inventory: string | null = null;

  private constructor(init: WorkerInit, ready: ReadyInfo, options: Required<Pick<PoolOptions, 'size' | 'timeoutMs' | 'maxQueue'>> & PoolOptions) {
    this.#init = init;
    this.revision = init.manifest.revision;
    this.builtins = ready.builtins;
    this.faces = new Set(ready.faces);
    this.size = options.size;
    this.timeoutMs = options.timeoutMs;
    this.#maxQueue = options.maxQueue;
    this.#maxPerRequester = Math.max(1, options.maxQueuePerRequester ?? Math.ceil(options.maxQueue / 8));
    this.#onReplaced = options.onWorkerReplaced;
    this.#gauges = options.gauges;
  }

  /** Starts `size` workers on `bundle`; resolves once all compiled it, rejects (bundle_invalid) if any could not. */
  static async start(bundle: Bundle, options: PoolOptions = {}): Promise<EvaluatorPool> {
    const size = Math.max(1, Math.floor(options.size ?? availableParallelism()));
    const timeoutMs = options.timeoutMs ?? DEFAULT_EVAL_TIMEOUT_MS;
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!(timeoutMs > 0)) throw new BelayError('bad_request', `evaluation timeout must be a positive number of milliseconds, got ${timeoutMs}`);
    const init: WorkerInit = {
      belayPolicyWorker: 1,
      manifest: bundle.manifest,
      wasm: bundle.wasm,
      data: bundle.data,
      digest: bundle.digest,
      requiredFaces: options.requiredFaces ?? ['admission'],
    };
    const started = await Promise.allSettled(Array.from({ length: size }, () => startWorker(init)));
    const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw failed.reason;
    }
    const pool = new EvaluatorPool(init, workers[0]!.ready, { ...options, size, timeoutMs, maxQueue });
    for (const w of workers) pool.#adopt(w.worker);
    return pool;
  }

  evaluate(face: Face, input: PolicyInput | Uint8Array, options?: EvaluateOptions): Promise<Evaluation> {
    const bytes = input instanceof Uint8Array ? ownBuffer(input) : serialise(input);
    if (bytes instanceof BelayError) return Promise.reject(bytes);
    const requester = options?.requester ?? '';
    return new Promise<Evaluation>((resolve, reject) => this.#submit(face, bytes, options?.fix === true, requester, resolve, reject));
  }

  #submit(face: Face, input: ArrayBuffer, fix: boolean, requester: string, resolve: (r: Evaluation) => void, reject: (e: BelayError) => void): void {
    if (this.#closing) {
      reject(new BelayError('evaluation_failed', `the evaluator for bundle revision ${this.revision || '(unversioned)'} is closed`));
      return;
    }
    if (this.#queue.size >= this.#maxQueue) {
      reject(new BelayError('evaluation_failed', `policy evaluation is overloaded: ${this.#queue.size} evaluations already wait for a worker`));
      return;
    }
    if (this.#queue.waiting(requester) >= this.#maxPerRequester) {
      reject(
        new BelayError(
          'evaluation_failed',
          `policy evaluation is overloaded by this requester: ${this.#queue.waiting(requester)} of its evaluations already wait for a worker`,
        ),
      );
      return;
    }
    const job: Job = { id: this.#nextId++, requester, face, fix, input, resolve, reject, timer: undefined, settled: false };
    const slot = this.#queue.size === 0 ? this.#leastBusy() : undefined;
    if (slot) {
      this.#post(slot, job);
    } else {
      job.timer = setTimeout(() => this.#expireWaiting(job), this.timeoutMs);
      this.#queue.push(job);
      this.#gauges?.queued(1);
    }
  }

  setInventory(inventoryJson: string | null): void {
    this.#inventory = inventoryJson;
    const msg: InventoryMessage = { inventory: inventoryJson };
    for (const s of this.#slots) s.worker.postMessage(msg);
  }

  stats(): PoolStats {
    let busy = 0;
    for (const s of this.#slots) if (s.jobs.length > 0) busy++;
    return { size: this.#slots.length, busy, queued: this.#queue.size, replaced: this.#replaced };
  }

  /** Lets queued and running evaluations finish (each within its budget), then stops the workers. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (!this.#idle()) await new Promise<void>((resolve) => (this.#drained = resolve));
      const slots = this.#slots.splice(0);
      for (const s of slots) s.retired = true;
      this.#gauges?.workers(-slots.length);
      await Promise.all(slots.map((s) => s.worker.terminate()));
    })();
    return this.#closing;
  }

  /** A worker with room for another job, the emptiest first; undefined when all are full. */
  #leastBusy(depth: number = DEPTH): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots) {
      if (s.jobs.length === 0) return s;
      if (s.jobs.length < depth && (!best || s.jobs.length < best.jobs.length)) best = s;
    }
    return best;
  }

  /** Hands `job` to `slot`'s worker; it runs now if the worker is idle, else right after the current one. */
  #post(slot: Slot, job: Job): void {
    slot.jobs.push(job);
    const input = job.input!;
    const msg: EvaluateMessage = job.fix ? { id: job.id, face: job.face, input, fix: true } : { id: job.id, face: job.face, input };
    if (slot.jobs.length === 1) {
      this.#gauges?.busy(1);
      this.#startBudget(job);
      job.input = null;
      slot.worker.postMessage(msg, [input]);
    } else {
      // Copied, not moved: if the running job is cut off, this one goes to another worker.
      job.timer ??= setTimeout(() => this.#expireWaiting(job), this.timeoutMs);
      slot.worker.postMessage(msg);
    }
  }

  /** The job is now running: its run-time budget starts. */
  #startBudget(job: Job): void {
    clearTimeout(job.timer);
    job.timer = setTimeout(() => this.#expireRunning(job), this.timeoutMs);
  }

  /** Moves waiting jobs onto workers with room. */
  #fill(): void {
    while (this.#queue.size > 0) {
      // With several requesters waiting, a job goes to an idle worker only: one posted behind a
      // running job would make whoever is served after it wait for both.
      const slot = this.#leastBusy(this.#queue.requesters > 1 ? 1 : DEPTH);
      if (!slot) break;
      this.#gauges?.queued(-1);
      this.#post(slot, this.#queue.shift()!);
    }
    this.#checkDrained();
  }

  #settle(job: Job): boolean {
    if (job.settled) return false;
    job.settled = true;
    clearTimeout(job.timer);
    job.timer = undefined;
    return true;
  }

  /** Waited past the budget, in the queue or behind another job on a worker. */
  #expireWaiting(job: Job): void {
    if (this.#queue.remove(job)) this.#gauges?.queued(-1);
    // A job already posted to a worker still runs there; its answer is dropped.
    if (!this.#settle(job)) return;
    job.reject(new BelayError('evaluation_failed', `no policy worker became free within the ${this.timeoutMs} ms evaluation budget (overloaded)`));
    this.#checkDrained();
  }

  #expireRunning(job: Job): void {
    const slot = this.#slots.find((s) => s.jobs[0] === job);
    if (!slot) return;
    const message = `policy evaluation ran past its ${this.timeoutMs} ms budget and was cut off`;
    if (this.#settle(job)) job.reject(new BelayError('evaluation_failed', message));
    this.#replace(slot, 'timeout', message);
  }

  #onMessage(slot: Slot, msg: WorkerMessage): void {
    if (slot.retired || (msg.kind !== 'result' && msg.kind !== 'error')) return;
    const job = slot.jobs[0];
    if (!job || job.id !== msg.id) return;
    slot.jobs.shift();
    if (slot.jobs.length === 0) this.#gauges?.busy(-1);
    if (this.#settle(job)) {
      if (msg.kind === 'result') job.resolve(msg);
      else job.reject(new BelayError(msg.error.code, msg.error.message));
    }
    // The next job is running now; even one whose caller gave up is cut off if it runs away.
    const next = slot.jobs[0];
    if (next) this.#startBudget(next);
    this.#fill();
  }

  #onCrash(slot: Slot, why: string): void {
    if (slot.retired) return;
    const job = slot.jobs[0];
    const message = `policy worker stopped unexpectedly: ${why}`;
    if (job && this.#settle(job)) job.reject(new BelayError('evaluation_failed', message));
    this.#replace(slot, 'crash', message);
  }

  /**
   * Retires a worker (terminating whatever it runs) and starts a fresh one in
   * its place. Jobs that were waiting behind the running one never started:
   * they go back to the front of the queue.
   */
  #replace(slot: Slot, reason: WorkerReplaced['reason'], message: string): void {
    slot.retired = true;
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    this.#gauges?.workers(-1);
    if (slot.jobs.length > 0) this.#gauges?.busy(-1);
    const waiting = slot.jobs
      .splice(0)
      .slice(1)
      .filter((j) => !j.settled);
    void slot.worker.terminate();
    this.#replaced++;
    this.#onReplaced?.({ revision: this.revision, reason, message });
    this.#queue.unshift(waiting);
    this.#gauges?.queued(waiting.length);
    this.#fill();
    if (!this.#closing) this.#respawn(0);
  }

  #respawn(attempt: number): void {
    startWorker(this.#init).then(
      ({ worker }) => {
        if (this.#closing) {
          void worker.terminate();
          return;
        }
        this.#adopt(worker);
      },
      () => {
        // The bundle compiled at activation, so this is transient (memory);
        // retry with backoff. Queued jobs meanwhile run on the other workers or expire.
        if (!this.#closing) setTimeout(() => this.#respawn(attempt + 1), Math.min(5_000, 100 * 2 ** attempt)).unref();
      },
    );
  }

  #adopt(worker: Worker): void {
    const slot: Slot = { worker, jobs: [], retired: false };
    this.#slots.push(slot);
    this.#gauges?.workers(1);
    // An idle pool must not keep the process alive; a pending evaluation's
    // budget timer does that while one runs.
    worker.unref();
    worker.on('message', (msg: WorkerMessage) => this.#onMessage(slot, msg));
    worker.on('error', (err) => this.#onCrash(slot, err.message));
    worker.on('exit', (code) => this.#onCrash(slot, `exit code ${code}`));
    if (this.#inventory !== null) worker.postMessage({ inventory: this.#inventory } satisfies InventoryMessage);
    this.#fill();
  }

  #idle(): boolean {
    return this.#queue.size === 0 && this.#slots.every((s) => s.jobs.length === 0);
  }

  #checkDrained(): void {
    if (!this.#drained || !this.#idle()) return;
    const done = this.#drained;
    this.#drained = undefined;
    done();
  }
}

/**
 * The input as UTF-8 JSON in an ArrayBuffer of its own, to be moved (not
 * copied) to a worker. Buffer.from encodes faster than TextEncoder here; it
 * puts short strings in a slice of Node's shared buffer pool (never the whole
 * of it), which must never be moved, so those are copied out.
 */
function serialise(input: PolicyInput): ArrayBuffer | BelayError {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(JSON.stringify(input));
  } catch (err) {
    return new BelayError('evaluation_failed', `policy input cannot be serialised: ${(err as Error).message}`, { cause: err });
  }
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer as ArrayBuffer;
  return new Uint8Array(bytes).buffer as ArrayBuffer;
}

/**
 * Bytes to move to a worker: a whole ArrayBuffer of their own. A view (a
 * Buffer from Node's shared pool, say) is copied out first; Buffer's own
 * slice would not copy, the constructor always does.
 */
function ownBuffer(input: Uint8Array): ArrayBuffer {
  return input.byteOffset === 0 && input.byteLength === input.buffer.byteLength && input.buffer instanceof ArrayBuffer
    ? input.buffer
    : (new Uint8Array(input).buffer as ArrayBuffer);
}

interface ReadyInfo {
  readonly builtins: readonly string[];
  readonly faces: readonly Face[];
}

/** Starts one worker and waits until it compiled the bundle. */
function startWorker(init: WorkerInit): Promise<{ worker: Worker; ready: ReadyInfo }> {
  return new Promise((resolve, reject) => {
    const worker = spawnWorker(init);
    const fail = (err: Error) => {
      cleanup();
      void worker.terminate();
      reject(new BelayError('bundle_invalid', `policy worker could not start: ${err.message}`, { cause: err }));
    };
    const onMessage = (msg: WorkerMessage) => {
      if (msg.kind === 'ready') {
        cleanup();
        resolve({ worker, ready: { builtins: msg.builtins, faces: msg.faces } });
      } else if (msg.kind === 'failed') {
        cleanup();
        void worker.terminate();
        reject(new BelayError(msg.error.code, msg.error.message));
      }
    };
    const onError = (err: Error) => fail(err);
    const onExit = (code: number) => fail(new Error(`it exited with code ${code} while starting`));
    function cleanup(): void {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/**
 * Compiled, the worker is `worker.js` beside this file. Run from TypeScript
 * source (vitest, tsx), it is `worker.ts`, which a worker thread can only load
 * through tsx's loader: Node 20 ignores `--import` in a worker's execArgv, so
 * a one-line bootstrap registers tsx and then imports the worker.
 */
function spawnWorker(init: WorkerInit): Worker {
  const options = { workerData: init, stdout: false, stderr: false };
  const compiled = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, options);
  const source = new URL('./worker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source))) {
    throw new BelayError('internal', `policy worker script not found beside ${fileURLToPath(import.meta.url)}`);
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(source.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), options);
}
