import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites open real sockets and child processes; two cores, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    // A crash of the product (it runs in the test process) fails the test it happened in, not only the run.
    // Never set dangerouslyIgnoreUnhandledErrors: an uncaught exception must fail the suite.
    setupFiles: ['test/support/crash-guard.ts'],
  },
});
