// What each step of an admission request costs the event loop, measured on
// the bench's mix: `npx tsx src/testkit/measure/hot-path.ts [passes]`.
//
// Per request (µs, the median over the mix of each request's best of
// `passes` runs, so a figure is the cost and not the wait for a core): the
// body's shape scan (webhook/body.ts, 64 KiB chunks) and its JSON.parse,
// decoding the review, building the policy input (with the unread fields
// left out and an UPDATE's changed paths), serialising it for a worker
// (what the pool moves), the fair queue's push and shift (src/policy/fair-queue.ts),
// and encoding an answer (webhook/admission/send.ts). Prints a table and the
// load average.

import { loadavg } from 'node:os';
import { buildMix } from '../../../bench/mix.js';
import { decodeReview, envelope } from '../../../webhook/admission/codec.js';
import { allowed, denied } from '../../../webhook/admission/response.js';
import { agentSelectorFromData } from '../../identity/agents.js';
import { admissionInput } from '../../input/admission.js';
import { namesOnly } from '../../namespaces/directory.js';
import { FairQueue } from '../../policy/fair-queue.js';
import { JsonShapeScanner } from '../../util/json-shape.js';

const passes = Number(process.argv[2] ?? 30);
const CHUNK = 64 * 1024;
const mix = buildMix(200);
const agents = agentSelectorFromData({ belay: { config: { agents: { serviceAccountNamespaces: ['agents'], groups: ['belay:agents'] } } } });

function best(fn: () => void): number {
  let min = Number.POSITIVE_INFINITY;
  for (let p = 0; p < passes; p++) {
    const t = process.hrtime.bigint();
    fn();
    const us = Number(process.hrtime.bigint() - t) / 1e3;
    if (us < min) min = us;
  }
  return min;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const steps: Record<string, number[]> = {};
const record = (name: string, us: number) => {
  steps[name] ??= [];
  steps[name].push(us);
};

for (const item of mix) {
  const bytes = Buffer.from(item.body);
  record(
    'shape scan of the body (64 KiB chunks)',
    best(() => {
      const s = new JsonShapeScanner();
      for (let o = 0; o < bytes.length; o += CHUNK) s.push(bytes.subarray(o, o + CHUNK));
    }),
  );
  record(
    'JSON.parse of the body (with toString)',
    best(() => JSON.parse(bytes.toString('utf8'))),
  );
  const parsed = JSON.parse(item.body) as unknown;
  record(
    'decode the review',
    best(() => decodeReview(parsed)),
  );
  const req = decodeReview(parsed);
  record(
    'policy input (unread fields out, changed paths)',
    best(() => admissionInput(req, agents, namesOnly.lookup(req.namespace ?? ''))),
  );
  const input = admissionInput(req, agents, namesOnly.lookup(req.namespace ?? ''));
  record(
    'serialise the input for a worker (stringify + bytes)',
    best(() => Buffer.from(JSON.stringify(input))),
  );
  record(
    'encode an answer (allow; a 403 with a message)',
    best(() => {
      Buffer.from(JSON.stringify(envelope(allowed(req.uid))));
      Buffer.from(JSON.stringify(envelope(denied(req.uid, 403, 'Deployment web in prod-billing: denied by policy (rule x); ask an approver'))));
    }) / 2,
  );
}

const queue = new FairQueue<{ requester: string }>();
const jobs = Array.from({ length: 1000 }, (_, i) => ({ requester: `agent-${i % 3}` }));
record(
  'fair queue push + shift (per job, 1,000 jobs of 3 requesters)',
  best(() => {
    for (const j of jobs) queue.push(j);
    while (queue.shift());
  }) / jobs.length,
);

process.stdout.write(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}; ${mix.length} requests of the bench's mix, best of ${passes} each\n\n`,
);
process.stdout.write('| step (event loop) | median µs | max µs |\n|---|---:|---:|\n');
for (const [name, xs] of Object.entries(steps)) {
  process.stdout.write(`| ${name} | ${median(xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |\n`);
}
