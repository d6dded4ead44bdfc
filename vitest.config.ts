import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites open real sockets and child processes; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
  },
});
