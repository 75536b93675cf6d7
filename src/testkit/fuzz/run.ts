// `make fuzz`: the HTTP fuzz run at length, from the command line. Prints
// requests sent, answers by status, 5xx (must be 0), wrong allows (must be 0)
// and the gateway's peak RSS; exits 1 when either count is not 0. Runs the
// compiled gateway (dist/, `make build`).
//   npx tsx src/testkit/fuzz/run.ts [requests=30000] [seed=1]

import { describeReport, fuzzGateway, startFuzzGateway } from './http.js';

const requests = Number(process.argv[2] ?? process.env.BELAY_FUZZ_REQUESTS ?? 30_000);
const seed = Number(process.argv[3] ?? process.env.BELAY_FUZZ_SEED ?? 1);
// The compiled gateway (make fuzz builds it first): its memory is what a deployment sees.
const gateway = await startFuzzGateway({ compiled: true });
try {
  const report = await fuzzGateway(gateway, { requests, concurrency: 16, seed });
  process.stdout.write(`${describeReport(report)}\n`);
  process.exitCode = report.serverErrors.count === 0 && report.wrongAllows.count === 0 ? 0 : 1;
} finally {
  await gateway.close();
}
