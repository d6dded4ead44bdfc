import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { run } from './support/net.ts';

const CLI = fileURLToPath(new URL('../bin/watchfloor.js', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/sigma', import.meta.url));
const REFERENCE_RULES = fileURLToPath(new URL('../../shared/reference/sigma', import.meta.url));
const BUILTIN = fileURLToPath(new URL('../rules/sigma/builtin', import.meta.url));

describe('watchfloor rules lint / rules test --sigma (the real CLI)', () => {
  it('lint counts the rules, names each that cannot run with why, and exits 1', async () => {
    const r = await run(process.execPath, [CLI, 'rules', 'lint', FIXTURES], 30_000);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('1 of 5 rules loaded');
    expect(lines.slice(1).map((l) => l.replace(`${FIXTURES}/`, ''))).toEqual([
      'bad/bad_condition.yml: Condition Names A Missing Selection: condition names "filter", which is not a selection',
      'bad/unknown_modifier.yml: Uses A Modifier That Does Not Exist: selection selection: unsupported modifier "sounds_like"',
      'bad/windows.yml: A Windows Rule Syslog Cannot Feed: no mapping for logsource product: windows, service: security (see rules/sigma/mapping.yaml)',
      'bad/correlation_missing.yml: Counts A Rule Nobody Wrote: correlation refers to no_such_rule, which did not load or does not exist',
    ]);
  });

  it('lint of the SigmaHQ reference rules and the built-in pack: all load, exit 0', async () => {
    const r = await run(process.execPath, [CLI, 'rules', 'lint', REFERENCE_RULES, BUILTIN], 30_000);
    expect(r.stdout).toBe('38 of 38 rules loaded\n');
    expect(r.code).toBe(0);
  });

  it('rules test --sigma replays raw syslog lines and prints the detections', async () => {
    const r = await run(process.execPath, [CLI, 'rules', 'test', '--sigma', BUILTIN, '--lines', `${FIXTURES}/network.log`], 30_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/medium Cisco Configuration Changed \(8a23265e-bb10-4cb9-b877-d398b1380761\) \[T1565\.002,T1601\] .*user=admin host=core-sw1/);
    expect(r.stdout).toMatch(/high Root Login Over SSH .*source=203\.0\.113\.9 user=root host=web1 lines=1/);
    expect(r.stdout).toContain('9 detections\n');
  });
});
