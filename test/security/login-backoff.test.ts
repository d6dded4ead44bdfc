/* The lock arithmetic of core/login-guard.ts (the HTTP logins' and the broker's) on a fake clock: backoff, sprayers, the lock file. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock, LoginGuard, unlockInFile } from '../../core/index.ts';

const MIN = 60_000;

describe('LoginGuard: locks per (source, user) with exponential backoff', () => {
  it('locks the pair after 5 failures for 1 min, then doubles at every further failure up to 15 min', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const guard = new LoginGuard(clock);
    for (let i = 0; i < 4; i++) expect(guard.failed('admin', '10.0.0.66')).toEqual({ locked: false });
    expect(guard.failed('admin', '10.0.0.66')).toMatchObject({ locked: true, scope: 'pair', until: clock.now() + MIN, strikes: 1 });
    expect(guard.lockedUntil('admin', '10.0.0.66')).toBe(clock.now() + MIN);
    // Only that pair: the admin from elsewhere, and another user from the same address, are not locked.
    expect(guard.lockedUntil('admin', '10.0.0.7')).toBeUndefined();
    expect(guard.lockedUntil('noc1', '10.0.0.66')).toBeUndefined();

    const lengths: number[] = [];
    for (let n = 0; n < 6; n++) {
      clock.advance(16 * MIN); // past any lock
      expect(guard.lockedUntil('admin', '10.0.0.66')).toBeUndefined();
      const lock = guard.failed('admin', '10.0.0.66'); // one failure is enough once a lock was served
      expect(lock.locked).toBe(true);
      if (lock.locked) lengths.push((lock.until - clock.now()) / MIN);
    }
    expect(lengths).toEqual([2, 4, 8, 15, 15, 15]);

    // A good password from the pair starts it afresh.
    clock.advance(16 * MIN);
    guard.succeeded('admin', '10.0.0.66');
    for (let i = 0; i < 4; i++) expect(guard.failed('admin', '10.0.0.66').locked).toBe(false);
  });

  it('locks a spraying source for every user after 20 failures, which a good login of one user does not lift', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const guard = new LoginGuard(clock);
    for (let i = 0; i < 19; i++) expect(guard.failed(`user-${i}`, '10.0.0.99').locked).toBe(false);
    expect(guard.failed('user-19', '10.0.0.99')).toMatchObject({ locked: true, scope: 'source', until: clock.now() + 5 * MIN });
    guard.succeeded('admin', '10.0.0.99');
    expect(guard.lockedUntil('admin', '10.0.0.99')).toBe(clock.now() + 5 * MIN);
    expect(guard.lockedUntil('admin', '10.0.0.98')).toBeUndefined();
  });

  it('honours an unlock written to the lock file by another process, and keeps the backoff across a restart', () => {
    const clock = new FakeClock(1_700_000_000_000);
    const file = join(mkdtempSync(join(tmpdir(), 'wf-locks-')), 'login-locks.json');
    const guard = new LoginGuard(clock, undefined, file);
    for (let i = 0; i < 5; i++) guard.failed('admin', '10.0.0.66');
    for (let i = 0; i < 5; i++) guard.failed('admin', '10.0.0.67');
    expect(new LoginGuard(clock, undefined, file).lockedUntil('admin', '10.0.0.66')).toBe(clock.now() + MIN); // a restart keeps it

    expect(unlockInFile(file, 'admin', '::ffff:10.0.0.66')).toEqual({ pairs: 1, sources: 0 });
    expect(guard.lockedUntil('admin', '10.0.0.66')).toBeUndefined();
    expect(guard.lockedUntil('admin', '10.0.0.67')).toBe(clock.now() + MIN);
    // The cleared pair starts from nothing: four failures do not lock it again.
    for (let i = 0; i < 4; i++) expect(guard.failed('admin', '10.0.0.66').locked).toBe(false);

    expect(unlockInFile(file, 'admin')).toEqual({ pairs: 1, sources: 0 });
    expect(guard.lockedUntil('admin', '10.0.0.67')).toBeUndefined();
  });
});
