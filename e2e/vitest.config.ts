import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// End to end on a real kube-apiserver and kubectl (make e2e, or
// `npx vitest run --config e2e/vitest.config.ts`). Files run one at a time:
// they share one cluster and one gateway port.
export default defineConfig({
  test: {
    root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'),
    include: ['e2e/**/*.e2e.test.ts'],
    globalSetup: ['e2e/harness/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    sequence: { shuffle: false },
  },
});
