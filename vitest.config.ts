import { defineConfig } from 'vitest/config';

// Unit and HTTP tests live beside the code; the e2e suite runs apart (make e2e)
// because it needs the real control plane.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'webhook/**/*.test.ts', 'policy-tests/**/*.test.ts', 'bench/**/*.test.ts', 'manifests/**/*.test.ts'],
    testTimeout: 20_000,
    pool: 'forks',
  },
});
