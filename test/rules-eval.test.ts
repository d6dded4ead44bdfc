import { describe, expect, it } from 'vitest';
import {
  elapseNodata,
  elapseThreshold,
  evaluateNodata,
  evaluateThreshold,
  loadRules,
  type NodataState,
  type ThresholdRule,
  type ThresholdState,
  type Transition,
} from '../rules/index.ts';

// The pure core: (rule, previous state, value, now) -> (state, transition). No engine, no clock.

const [warm, cold, band] = loadRules(
  [
    { id: 'warm', type: 'threshold', name: 'warm', kind: 'environment', severity: 'warning', match: { metric: 't' }, when: { above: 27 }, clear: { below: 26 }, for: '30s' },
    { id: 'cold', type: 'threshold', name: 'cold', kind: 'environment', severity: 'warning', match: { metric: 't' }, when: { below: 15 } },
    { id: 'band', type: 'threshold', name: 'band', kind: 'environment', severity: 'warning', match: { metric: 'h' }, when: { above: 80, below: 20 }, clear: { below: 78, above: 22 } },
  ],
  'test',
) as ThresholdRule[];

type Row = [at: number, value: number, phase: ThresholdState['phase'], transition?: Transition];

/** Feeds values in order and checks the phase and transition after each. */
function run(rule: ThresholdRule, rows: Row[]): void {
  let state: ThresholdState | undefined;
  for (const [at, value, phase, transition] of rows) {
    const step = evaluateThreshold(rule, state, value, at * 1000);
    if (step) state = step.state;
    expect([at, value, state?.phase ?? 'inactive', step?.transition]).toEqual([at, value, phase, transition]);
  }
}

describe('evaluateThreshold', () => {
  it.each<[string, ThresholdRule, Row[]]>([
    ['fires once held for `for`', warm!, [[0, 28, 'pending'], [10, 29, 'pending'], [29, 28, 'pending'], [30, 28, 'firing', 'firing'], [40, 30, 'firing']]],
    ['a dip before `for` elapses starts the wait over', warm!, [[0, 28, 'pending'], [20, 26.9, 'inactive'], [25, 28, 'pending'], [50, 28, 'pending'], [55, 28, 'firing', 'firing']]],
    ['hysteresis: stays firing above the clear line, resolves below it', warm!, [[0, 27.5, 'pending'], [30, 27.5, 'firing', 'firing'], [40, 26.5, 'firing'], [45, 26, 'firing'], [50, 25.9, 'inactive', 'resolved']]],
    ['a value on the line does not breach', warm!, [[0, 27, 'inactive'], [60, 27, 'inactive']]],
    ['below-threshold rule without `for` fires at once', cold!, [[0, 16, 'inactive'], [1, 14.9, 'firing', 'firing'], [2, 10, 'firing'], [3, 15, 'firing'], [4, 15.1, 'inactive', 'resolved']]],
    ['a band fires on either side and clears only inside the clear band', band!, [[0, 81, 'firing', 'firing'], [1, 79, 'firing'], [2, 10, 'firing'], [3, 21, 'firing'], [4, 50, 'inactive', 'resolved'], [5, 19, 'firing', 'firing'], [6, 22, 'firing'], [7, 22.5, 'inactive', 'resolved']]],
  ])('%s', (_name, rule, rows) => run(rule, rows));

  it('without a clear line, a value hovering at the threshold does not flap', () => {
    const [rule] = loadRules([{ id: 'r', type: 'threshold', name: 'r', kind: 'environment', severity: 'warning', match: { metric: 't' }, when: { above: 27 } }], 'test') as ThresholdRule[];
    run(rule!, [[0, 27.1, 'firing', 'firing'], [1, 27.0, 'firing'], [2, 27.1, 'firing'], [3, 27.0, 'firing'], [4, 26.9, 'inactive', 'resolved']]);
  });

  it('returns undefined when nothing changes, so the caller allocates nothing', () => {
    expect(evaluateThreshold(warm!, undefined, 20, 0)).toBeUndefined();
    expect(evaluateThreshold(warm!, { phase: 'pending', since: 0 }, 28, 1000)).toBeUndefined();
    expect(evaluateThreshold(warm!, { phase: 'firing', since: 0 }, 26.5, 1000)).toBeUndefined();
  });

  it('keeps the start of the breach as `since` when it fires', () => {
    const step = evaluateThreshold(warm!, { phase: 'pending', since: 5000 }, 28, 40_000);
    expect(step).toEqual({ state: { phase: 'firing', since: 5000 }, transition: 'firing' });
  });
});

describe('elapseThreshold', () => {
  it('fires a pending series once `for` has run out, and nothing else', () => {
    const pending: ThresholdState = { phase: 'pending', since: 1000 };
    expect(elapseThreshold(warm!, pending, 30_999)).toBeUndefined();
    expect(elapseThreshold(warm!, pending, 31_000)).toEqual({ state: { phase: 'firing', since: 1000 }, transition: 'firing' });
    expect(elapseThreshold(warm!, { phase: 'firing', since: 0 }, 99_000)).toBeUndefined();
    expect(elapseThreshold(warm!, undefined, 99_000)).toBeUndefined();
  });
});

describe('evaluateNodata / elapseNodata', () => {
  const [rule] = loadRules([{ id: 'off', type: 'nodata', name: 'off', severity: 'major', after: '60s' }], 'test');
  const offline: NodataState = { phase: 'offline', since: 0, cause: 'silent' };

  it('goes offline once silent for `after`, dated at last seen + after', () => {
    if (rule?.type !== 'nodata') throw new Error('expected a nodata rule');
    expect(elapseNodata(rule, undefined, 10_000, 69_999)).toBeUndefined();
    expect(elapseNodata(rule, undefined, 10_000, 75_000)).toEqual({ state: { phase: 'offline', since: 70_000, cause: 'silent' }, transition: 'firing' });
    expect(elapseNodata(rule, offline, 10_000, 200_000)).toBeUndefined();
  });

  it.each<[string, NodataState | undefined, 'data' | 'online' | 'offline', Transition | undefined]>([
    ['an offline status fires at once', undefined, 'offline', 'firing'],
    ['an offline status while offline changes nothing', offline, 'offline', undefined],
    ['data resolves', offline, 'data', 'resolved'],
    ['an online status resolves', offline, 'online', 'resolved'],
    ['data while online changes nothing', undefined, 'data', undefined],
  ])('%s', (_name, previous, presence, transition) => {
    expect(evaluateNodata(previous, presence, 5000)?.transition).toBe(transition);
  });
});
