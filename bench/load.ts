// The load generator, run as its own process so its CPU is apart from the
// server's and measurable. Three shapes:
//
//  - flat-out (closed loop): autocannon keeps N connections busy, each sending
//    the next request as soon as the last one answered;
//  - fixed rate (open loop): requests leave on a fixed schedule whatever the
//    server does (autocannon's own rate limit sends each second's quota in
//    a burst, which is not a fixed rate), over keep-alive HTTPS;
//  - serial: one request at a time on one keep-alive connection, the next
//    sent when the last one answered: the latency floor, with nothing queued.
//
// Both cycle through the same request mix. Latencies are recorded exactly
// (floating-point ms, not autocannon's whole-millisecond histogram) into a
// binary file the driver pools across rounds; the summary goes to stdout as JSON.
//
//   node dist/bench/load.js JOB.json

import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export interface LoadJob {
  url: string;
  /** Path of a JSON array of request bodies (strings). */
  bodiesFile: string;
  mode: 'flat' | 'rate' | 'serial';
  durationSec: number;
  /** flat: connections kept busy. */
  connections?: number;
  /** rate: requests per second. */
  rate?: number;
  /** PEM of the CA that signed the server certificate (rate mode verifies it). */
  caFile?: string;
  /** Where to write the latency samples (Float64, ms). */
  samplesFile: string;
}

export interface LoadResult {
  mode: LoadJob['mode'];
  seconds: number;
  /** Answered with 2xx. */
  ok: number;
  non2xx: number;
  errors: number;
  /** rate: requests the client did not send because too many were outstanding. */
  skipped: number;
  /** rate: how late requests left against their schedule (ms), p99. */
  sendLagP99: number;
  /** CPU the load generator itself used (user + system seconds). */
  clientCpuSeconds: number;
}

class Samples {
  #buf = new Float64Array(1 << 16);
  #n = 0;
  push(v: number): void {
    if (this.#n === this.#buf.length) {
      const next = new Float64Array(this.#buf.length * 2);
      next.set(this.#buf);
      this.#buf = next;
    }
    this.#buf[this.#n++] = v;
  }
  get length(): number {
    return this.#n;
  }
  values(): Float64Array {
    return this.#buf.subarray(0, this.#n);
  }
}

type Measured = Omit<LoadResult, 'clientCpuSeconds'>;

async function flat(job: LoadJob, bodies: string[], samples: Samples): Promise<Measured> {
  const url = new URL(job.url);
  let ok = 0;
  let non2xx = 0;
  const instance = autocannon({
    url: url.origin,
    connections: job.connections ?? 10,
    duration: job.durationSec,
    timeout: 10,
    requests: bodies.map((body) => ({ method: 'POST', path: url.pathname, headers: { 'content-type': 'application/json' }, body })),
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    if (status >= 200 && status < 300) {
      ok++;
      samples.push(ms);
    } else {
      non2xx++;
    }
  });
  const result = await instance;
  return { mode: 'flat', seconds: result.duration, ok, non2xx, errors: result.errors + result.timeouts, skipped: 0, sendLagP99: 0 };
}

async function rate(job: LoadJob, bodies: string[], samples: Samples): Promise<Measured> {
  const url = new URL(job.url);
  const perSecond = job.rate ?? 1000;
  const total = Math.round(perSecond * job.durationSec);
  const interval = 1000 / perSecond;
  const maxOutstanding = 512;
  const payloads = bodies.map((b) => Buffer.from(b));
  // A bounded set of keep-alive connections, as the API server's webhook
  // client keeps: past it requests queue in the client (and the wait counts
  // in their latency) instead of each hiccup opening new TLS connections,
  // whose handshakes would then load the server more.
  const sockets = 32;
  const agent = new https.Agent({ keepAlive: true, maxSockets: sockets, ...(job.caFile ? { ca: readFileSync(job.caFile) } : { rejectUnauthorized: false }) });
  const send = (body: Buffer, onDone: (status: number) => void, onError: () => void): void => {
    const req = https.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => onDone(res.statusCode ?? 0));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', onError);
    req.end(body);
  };
  // Open the connections first (TLS handshakes), outside the measured schedule.
  const warm = Math.min(8, sockets);
  await Promise.all(
    Array.from(
      { length: warm },
      (_, i) =>
        new Promise<void>((resolve) =>
          send(
            payloads[i % payloads.length]!,
            () => resolve(),
            () => resolve(),
          ),
        ),
    ),
  );
  const lags = new Samples();
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let skipped = 0;
  let outstanding = 0;
  let finished = 0;
  let sent = 0;

  const started = performance.now();
  await new Promise<void>((resolve) => {
    const done = () => {
      finished++;
      outstanding--;
      if (finished === total) resolve();
    };
    function fire(i: number): void {
      const body = payloads[i % payloads.length]!;
      const t = performance.now();
      lags.push(t - (started + i * interval));
      outstanding++;
      send(
        body,
        (status) => {
          if (status >= 200 && status < 300) {
            ok++;
            samples.push(performance.now() - t);
          } else {
            non2xx++;
          }
          done();
        },
        () => {
          errors++;
          done();
        },
      );
    }
    function tick(): void {
      const due = Math.min(total, Math.floor((performance.now() - started) / interval) + 1);
      while (sent < due) {
        if (outstanding >= maxOutstanding) {
          skipped++;
          finished++;
          if (finished === total) resolve();
        } else {
          fire(sent);
        }
        sent++;
      }
      if (sent < total) setTimeout(tick, Math.max(0, started + sent * interval - performance.now()));
    }
    tick();
  });
  agent.destroy();
  const l = lags.values().slice().sort();
  return {
    mode: 'rate',
    seconds: (performance.now() - started) / 1000,
    ok,
    non2xx,
    errors,
    skipped,
    sendLagP99: l.length ? l[Math.min(l.length - 1, Math.floor(l.length * 0.99))]! : 0,
  };
}

async function serial(job: LoadJob, bodies: string[], samples: Samples): Promise<Measured> {
  const url = new URL(job.url);
  const payloads = bodies.map((b) => Buffer.from(b));
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...(job.caFile ? { ca: readFileSync(job.caFile) } : { rejectUnauthorized: false }) });
  const send = (body: Buffer): Promise<number> =>
    new Promise((resolve) => {
      const req = https.request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': body.byteLength },
        },
        (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(0));
      req.end(body);
    });
  await send(payloads[0]!); // the TLS handshake, outside the measurement
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  const started = performance.now();
  const until = started + job.durationSec * 1000;
  for (let i = 0; performance.now() < until; i++) {
    const t = performance.now();
    const status = await send(payloads[i % payloads.length]!);
    if (status >= 200 && status < 300) {
      ok++;
      samples.push(performance.now() - t);
    } else if (status === 0) {
      errors++;
    } else {
      non2xx++;
    }
  }
  agent.destroy();
  return { mode: 'serial', seconds: (performance.now() - started) / 1000, ok, non2xx, errors, skipped: 0, sendLagP99: 0 };
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: load JOB.json');
  const job = JSON.parse(readFileSync(file, 'utf8')) as LoadJob;
  const bodies = JSON.parse(readFileSync(job.bodiesFile, 'utf8')) as string[];
  const samples = new Samples();
  const cpu = process.cpuUsage();
  const partial =
    job.mode === 'flat' ? await flat(job, bodies, samples) : job.mode === 'rate' ? await rate(job, bodies, samples) : await serial(job, bodies, samples);
  const used = process.cpuUsage(cpu);
  const result: LoadResult = { ...partial, clientCpuSeconds: (used.user + used.system) / 1e6 };
  const values = samples.values();
  writeFileSync(job.samplesFile, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
