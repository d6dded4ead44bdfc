/*
 * A crash of the product in any test fails the suite (issue 12). Loaded by vitest.config.ts as a
 * setup file in every test file. The product runs in the test process (startProduct), so its
 * uncaught exception or unhandled rejection lands here: vitest already reports it and fails the
 * run, and this guard also fails the test it happened in, so the report says which one.
 * A product started as a child process is watched with `expectAlive`: an exit the test did not
 * ask for (child.kill) fails the test too.
 */
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach } from 'vitest';

const crashes: string[] = [];
const describe = (err: unknown): string => (err instanceof Error ? err.stack ?? err.message : String(err));

process.on('uncaughtException', (err) => crashes.push(`uncaught exception: ${describe(err)}`));
process.on('unhandledRejection', (reason) => crashes.push(`unhandled rejection: ${describe(reason)}`));

/** Fails the current test when `child` exits before the test kills it (a crash, or any exit of a server). */
export function expectAlive<T extends ChildProcess>(child: T, what: string, output?: () => string): T {
  child.once('exit', (code, signal) => {
    if (child.killed) return;
    crashes.push(`${what} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}${output ? `\n${output().slice(-2000)}` : ''}`);
  });
  return child;
}

function check(): void {
  if (crashes.length === 0) return;
  const seen = crashes.splice(0);
  throw new Error(`the product crashed during this test:\n${seen.join('\n')}`);
}

afterEach(check);
afterAll(check);
