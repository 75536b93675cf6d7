// The bounded HTTP fuzz run of `make test` (src/testkit/fuzz/http.ts): a few
// thousand requests of every kind to a real gateway, within a minute; none
// may get a 5xx or an allow that could only be wrong. `make fuzz` runs longer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeReport, type FuzzGateway, fuzzGateway, startFuzzGateway } from '../src/testkit/fuzz/http.js';

const REQUESTS = Number(process.env.BELAY_FUZZ_REQUESTS ?? 3000);
let gateway: FuzzGateway;

beforeAll(async () => {
  gateway = await startFuzzGateway();
}, 180_000);

afterAll(async () => {
  await gateway?.close();
});

describe('HTTP fuzz run', () => {
  it(`answers ${REQUESTS} fuzzed requests to every face without a 5xx or a wrong allow`, async () => {
    // A minute of sending at most: a slow machine sends fewer, never fails for it.
    const report = await fuzzGateway(gateway, { requests: REQUESTS, concurrency: 8, seed: Number(process.env.BELAY_FUZZ_SEED ?? 12), budgetMs: 60_000 });
    process.stdout.write(`\nHTTP fuzz: ${describeReport(report).replace(/\n/g, '\n  ')}\n`);
    expect(report.serverErrors, gateway.output().slice(-2000)).toEqual({ count: 0, examples: [] });
    expect(report.wrongAllows).toEqual({ count: 0, examples: [] });
    expect(report.sent).toBeGreaterThan(Math.min(REQUESTS, 500));
  }, 240_000);
});
