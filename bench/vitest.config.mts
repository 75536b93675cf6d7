import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The bench's own tests (mix, comparator, statistics, generators):
// `npx vitest run --config bench/vitest.config.ts`.
export default defineConfig({
  test: {
    root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'),
    include: ['bench/**/*.test.ts'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
