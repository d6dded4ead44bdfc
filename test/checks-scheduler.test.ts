// The check scheduler (issue 16): retries before down, interval with jitter, timeouts, the global cap,
// and a slow target that never delays a fast one: first on a manual clock, then on real sockets.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckScheduler,
  nextCheckState,
  parseCheck,
  type CheckConfigBase,
  type CheckContext,
  type CheckResult,
  type CheckState,
  type ResultInfo,
  type TimerClock,
} from '../collectors/checks/index.ts';

/** A clock whose timers fire only when the test moves time; promises settle between firings. */
class ManualClock implements TimerClock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  async advance(ms: number): Promise<void> {
    const target = this.t + ms;
    await flush();
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= target && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
      await flush();
    }
    this.t = target;
  }
}
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

const ok: CheckResult = { ok: true, state: 'up', latencyMs: 1 };
const fail = (reason = 'expected status 200, got 500'): CheckResult => ({ ok: false, state: 'down', reason, latencyMs: 1 });

interface Seen {
  id: string;
  result: CheckResult;
  state: CheckState;
  info: ResultInfo;
}

function collector(): { seen: Seen[]; onResult: (id: string, result: CheckResult, state: CheckState, info: ResultInfo) => void } {
  const seen: Seen[] = [];
  return { seen, onResult: (id, result, state, info) => seen.push({ id, result, state, info }) };
}

const tcp = (over: Record<string, unknown> = {}): CheckConfigBase => parseCheck({ type: 'tcp', host: '127.0.0.1', port: 9, ...over });

describe('nextCheckState: a single lost probe is not an outage', () => {
  it.each([
    // [previous state, failures so far, this probe ok, retries, expected state, expected failures]
    ['pending', 0, true, 1, 'up', 0],
    ['pending', 0, false, 0, 'down', 1],
    ['pending', 0, false, 1, 'pending', 1],
    ['up', 0, false, 1, 'up', 1],
    ['up', 1, false, 1, 'down', 2],
    ['up', 2, false, 3, 'up', 3],
    ['up', 3, false, 3, 'down', 4],
    ['down', 5, false, 1, 'down', 6],
    ['down', 5, true, 1, 'up', 0],
  ] as const)('%s with %i failures, ok=%s, retries %i -> %s', (state, failures, isOk, retries, want, wantFailures) => {
    expect(nextCheckState({ state, failures }, isOk, retries)).toEqual({ state: want, failures: wantFailures });
  });
});

describe('CheckScheduler on a manual clock', () => {
  it('turns down only after retries + 1 consecutive failures, and up on the first success', async () => {
    const clock = new ManualClock();
    const script = [ok, fail(), ok, fail(), fail(), fail(), ok];
    const { seen, onResult } = collector();
    const s = new CheckScheduler({ clock, onResult, random: () => 0.5, jitter: 0, run: async () => script.shift() ?? ok });
    s.add('portal', tcp({ intervalSeconds: 10, retries: 1 }));
    await clock.advance(70_000);
    expect(seen.map((x) => x.state)).toEqual(['up', 'up', 'up', 'up', 'down', 'down', 'up']);
    expect(seen.map((x) => x.info.changed)).toEqual([true, false, false, false, true, false, true]);
    expect(seen[4]?.info.consecutiveFailures).toBe(2);
    expect(seen[4]?.result.reason).toBe('expected status 200, got 500');
    await s.stop();
  });

  it('runs each check on its own interval, on a grid that jitter does not drift', async () => {
    const clock = new ManualClock();
    const { seen, onResult } = collector();
    let r = 0;
    const randoms = [0.5, 0.9, 0.1]; // phase 5 s, then jitter +4 % and -4 % alternately
    const s = new CheckScheduler({ clock, onResult, jitter: 0.05, random: () => randoms[r++ % 3] as number, run: async () => ok });
    s.add('dns', tcp({ intervalSeconds: 10 }));
    await clock.advance(1_000_000);
    const times = seen.map((x) => x.info.at);
    expect(times[0]).toBe(5_000);
    expect(times.length).toBeGreaterThanOrEqual(99);
    // Each run within ±5 % of its slot 5 s + k·10 s, the 99th as close to its slot as the first.
    times.forEach((t, k) => expect(Math.abs(t - (5_000 + k * 10_000))).toBeLessThanOrEqual(500));
    expect(new Set(times.slice(1).map((t, k) => t - (times[k] as number))).size).toBeGreaterThan(1); // jitter is there
    await s.stop();
  });

  it('probes again after retryIntervalSeconds while failing, then back to the interval once down', async () => {
    const clock = new ManualClock();
    const { seen, onResult } = collector();
    const s = new CheckScheduler({ clock, onResult, random: () => 0, jitter: 0, run: async () => fail() });
    s.add('mail', tcp({ intervalSeconds: 60, retries: 2, retryIntervalSeconds: 5 }));
    await clock.advance(200_000);
    expect(seen.slice(0, 4).map((x) => [x.info.at, x.state])).toEqual([
      [0, 'pending'],
      [5_000, 'pending'],
      [10_000, 'down'],
      [60_000, 'down'],
    ]);
    await s.stop();
  });

  it('aborts a probe at its timeout, and abandons one that ignores the signal without losing its slot', async () => {
    const clock = new ManualClock();
    const { seen, onResult } = collector();
    const run = (config: CheckConfigBase, ctx: CheckContext): Promise<CheckResult> =>
      new Promise((resolve) => {
        if (config.id === 'stuck') return; // never settles, ignores the signal
        ctx.signal.addEventListener('abort', () => resolve(fail(`timed out after ${clock.now()} ms waiting for the response`)));
      });
    const s = new CheckScheduler({ clock, onResult, random: () => 0, jitter: 0, concurrency: 1, run });
    s.add('stuck', tcp({ id: 'stuck', intervalSeconds: 30, timeoutSeconds: 2 }));
    await clock.advance(3_500);
    expect(seen.map((x) => [x.id, x.result.reason, x.info.at])).toEqual([['stuck', 'timed out after 2000 ms (the probe did not stop)', 0]]);
    expect(s.stats.abandoned).toBe(1);
    expect(s.load.active).toBe(0); // the only slot of the cap is free again
    s.add('polite', tcp({ id: 'polite', intervalSeconds: 30, timeoutSeconds: 2 }));
    await clock.advance(2_000);
    expect(seen[1]?.result.reason).toBe('timed out after 5500 ms waiting for the response');
    await s.stop();
  });

  it('holds to the global cap and measures the lag of probes waiting for a slot', async () => {
    const clock = new ManualClock();
    const { seen, onResult } = collector();
    let active = 0;
    let maxActive = 0;
    const run = async (): Promise<CheckResult> => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => clock.setTimeout(r, 1_000));
      active--;
      return ok;
    };
    const s = new CheckScheduler({ clock, onResult, random: () => 0, jitter: 0, concurrency: 2, run });
    for (let i = 0; i < 5; i++) s.add(`c${i}`, tcp({ intervalSeconds: 60 }));
    await clock.advance(5_000);
    expect(maxActive).toBe(2);
    expect(seen.map((x) => x.info.lagMs)).toEqual([0, 0, 1_000, 1_000, 2_000]);
    expect(s.lagQuantile(1)).toBe(2_000);
    expect(s.stats.maxLagMs).toBe(2_000);
    await s.stop();
  });

  it('a slow target delays only itself: the fast check keeps its interval', async () => {
    const clock = new ManualClock();
    const { seen, onResult } = collector();
    const run = (config: CheckConfigBase, ctx: CheckContext): Promise<CheckResult> =>
      config.id === 'slow'
        ? new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(fail('timed out after 5000 ms waiting for the response'))))
        : Promise.resolve(ok);
    const s = new CheckScheduler({ clock, onResult, random: () => 0, jitter: 0, concurrency: 4, run });
    s.add('slow', tcp({ id: 'slow', intervalSeconds: 1, timeoutSeconds: 5, retries: 0 }));
    s.add('fast', tcp({ id: 'fast', intervalSeconds: 1 }));
    await clock.advance(20_500);
    const fast = seen.filter((x) => x.id === 'fast');
    const slow = seen.filter((x) => x.id === 'slow');
    expect(fast.map((x) => x.info.at)).toEqual([...Array(21).keys()].map((k) => k * 1_000));
    expect(fast.every((x) => x.info.lagMs === 0 && x.state === 'up')).toBe(true);
    // The slow one ran at 0, 5, 10, 15 s (skipping the slots its own probe covered), and is down.
    expect(slow.map((x) => x.info.at)).toEqual([0, 5_000, 10_000, 15_000]);
    expect(slow.every((x) => x.state === 'down')).toBe(true);
    await s.stop();
  });

  it('stop aborts what is in flight, reports nothing after, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const { seen, onResult } = collector();
    let aborted = 0;
    const run = (_c: CheckConfigBase, ctx: CheckContext): Promise<CheckResult> =>
      new Promise((resolve) => ctx.signal.addEventListener('abort', () => (aborted++, resolve(fail('aborted')))));
    const s = new CheckScheduler({ clock, onResult, random: () => 0, jitter: 0, run });
    s.add('a', tcp({ intervalSeconds: 10, timeoutSeconds: 5 }));
    s.add('b', tcp({ intervalSeconds: 10, timeoutSeconds: 5 }));
    await clock.advance(1_000);
    await s.stop();
    expect(aborted).toBe(2);
    expect(seen).toEqual([]);
    expect(clock.pending).toBe(0);
    expect(() => s.add('c', tcp())).toThrow(/stopped/);
  });
});

describe('CheckScheduler on real sockets', () => {
  let fastServer: Server;
  let silent: NetServer;
  const held: Socket[] = [];
  let fastPort = 0;
  let silentPort = 0;
  beforeAll(async () => {
    fastServer = createHttpServer((_req, res) => res.end('ok'));
    silent = createNetServer((s) => held.push(s)); // accepts, never answers
    await new Promise<void>((r) => fastServer.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    fastPort = (fastServer.address() as AddressInfo).port;
    silentPort = (silent.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    await new Promise((r) => fastServer.close(r));
    await new Promise((r) => silent.close(r));
  });

  it('a target that never answers times out with a reason while the fast one keeps its pace', async () => {
    const { seen, onResult } = collector();
    const s = new CheckScheduler({ onResult, random: () => 0, jitter: 0, concurrency: 2 });
    s.add('slow', parseCheck({ type: 'http', url: `http://127.0.0.1:${silentPort}/`, intervalSeconds: 1, timeoutSeconds: 2.5, retries: 0 }));
    s.add('fast', parseCheck({ type: 'http', url: `http://127.0.0.1:${fastPort}/`, intervalSeconds: 1 }));
    await new Promise((r) => setTimeout(r, 3_300));
    await s.stop();
    const fast = seen.filter((x) => x.id === 'fast');
    const slow = seen.filter((x) => x.id === 'slow');
    expect(fast.length).toBeGreaterThanOrEqual(3);
    expect(fast.every((x) => x.state === 'up' && x.info.lagMs < 500)).toBe(true);
    expect(slow.length).toBe(1);
    expect(slow[0]?.state).toBe('down');
    expect(slow[0]?.result.reason).toMatch(/^timed out after 2[5-9]\d\d ms waiting for the response \(connected, no answer\)$/);
  });
});
