/*
 * Issue 12: "a crash of the product in any test fails the suite". Runs vitest itself, with the
 * suite's own config (vitest.config.ts and its setup file test/support/crash-guard.ts), on two
 * fixtures whose tests pass on their own while the product crashes under them: a timer that
 * throws in the test process, and a product child process that exits by itself.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.ts';

interface Outcome {
  code: number | null;
  output: string;
}

function vitest(args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/security/fixtures/vitest.crash.config.ts', '--reporter', 'verbose', ...args],
      { timeout: 120_000, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: `${stdout}\n${stderr}` }));
  });
}

describe('a crash of the product fails the suite', () => {
  it('fails the test during which the process threw, and the one whose product child exited; a child the test stopped is fine', async () => {
    const run = await vitest([]);
    expect(run.code, run.output).not.toBe(0);
    expect(run.output).toMatch(/× .*passes on its own while a timer in the process throws/);
    expect(run.output).toMatch(/the product crashed during this test:\s+uncaught exception: Error: injected: a rules tick threw/);
    expect(run.output).toMatch(/× .*passes on its own while the product child process dies/);
    expect(run.output).toMatch(/product process \(pid \d+\) exited unexpectedly: code 3/);
    expect(run.output).toMatch(/✓ .*a child the test stops itself is no crash/);
    // Nothing in the config lets an unhandled error through.
    expect(config.test?.dangerouslyIgnoreUnhandledErrors).toBeFalsy();
    expect(config.test?.setupFiles).toContain('test/support/crash-guard.ts');
  }, 150_000);
});
