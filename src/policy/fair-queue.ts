// Waiting work, served requester by requester: one queue per requester, taken
// in turn (round robin), so a requester with a hundred heavy jobs waiting
// delays another requester's job by at most one of its own, and a requester
// over its share of the waiting room is refused without touching anyone else's.

export interface Queued {
  /** Who asked; jobs without one share the queue of the empty name. */
  readonly requester: string;
}

export class FairQueue<T extends Queued> {
  readonly #queues = new Map<string, T[]>();
  /** Requesters with something waiting, in the order they are served next. */
  readonly #turns: string[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Requesters with something waiting. */
  get requesters(): number {
    return this.#turns.length;
  }

  /** Jobs `requester` has waiting. */
  waiting(requester: string): number {
    return this.#queues.get(requester)?.length ?? 0;
  }

  /** Adds a job behind the requester's earlier ones. */
  push(job: T): void {
    const q = this.#queues.get(job.requester);
    if (q) q.push(job);
    else {
      this.#queues.set(job.requester, [job]);
      this.#turns.push(job.requester);
    }
    this.#size++;
  }

  /** Puts jobs back in front (work a replaced worker never started): their requesters are served first. */
  unshift(jobs: readonly T[]): void {
    for (const job of [...jobs].reverse()) {
      const q = this.#queues.get(job.requester);
      if (q) q.unshift(job);
      else this.#queues.set(job.requester, [job]);
      const turn = this.#turns.indexOf(job.requester);
      if (turn >= 0) this.#turns.splice(turn, 1);
      this.#turns.unshift(job.requester);
      this.#size++;
    }
  }

  /** The next requester's oldest job; that requester goes to the back of the line. */
  shift(): T | undefined {
    const requester = this.#turns.shift();
    if (requester === undefined) return undefined;
    const q = this.#queues.get(requester)!;
    const job = q.shift()!;
    if (q.length > 0) this.#turns.push(requester);
    else this.#queues.delete(requester);
    this.#size--;
    return job;
  }

  /** Takes a job out wherever it waits; false when it was not waiting. */
  remove(job: T): boolean {
    const q = this.#queues.get(job.requester);
    const i = q ? q.indexOf(job) : -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    if (q.length === 0) {
      this.#queues.delete(job.requester);
      this.#turns.splice(this.#turns.indexOf(job.requester), 1);
    }
    this.#size--;
    return true;
  }
}
