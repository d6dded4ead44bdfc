import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, FakeClock, issueLines, type Alert } from '../core/index.ts';
import { RuleEngine } from './engine.ts';
import { parseDuration, type RuleDef } from './kinds/index.ts';
import { loadRules, loadRulesFile } from './rule-file.ts';

const At = z.string().transform((t, ctx) => parseDuration(t) ?? (ctx.addIssue({ code: 'custom', message: 'expected a duration like "30s"' }), z.NEVER));
const Tags = z.record(z.string(), z.string());
const Input = z.union([
  z.strictObject({ at: At, device: z.string(), metric: z.string(), value: z.number(), tags: Tags.optional() }),
  z.strictObject({ at: At, event: z.strictObject({ device: z.string(), type: z.string(), attributes: z.record(z.string(), z.unknown()).optional() }), tags: Tags.optional() }),
  z.strictObject({ at: At, security: z.strictObject({ type: z.string(), origin: z.enum(['mqtt', 'snmp', 'http', 'syslog']), source: z.string().optional(), username: z.string().optional() }) }),
  z.strictObject({ at: At, status: z.strictObject({ device: z.string(), status: z.enum(['online', 'offline']) }), tags: Tags.optional() }),
]);
const Expected = z.strictObject({ rule: z.string(), labels: Tags.default({}), severity: z.string().optional(), summary: z.string().optional() });
/** A rule test file: the rules under test, and cases of input on a virtual clock with the alerts expected firing at given times. */
export const RuleTestFile = z.strictObject({
  rule_files: z.array(z.string()).optional(),
  rules: z.array(z.unknown()).optional(),
  tests: z.array(z.strictObject({ name: z.string(), input: z.array(Input), expect: z.array(z.strictObject({ at: At, alerts: z.array(Expected) })) })).min(1),
});

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);

const matches = (a: Alert, e: z.output<typeof Expected>): boolean =>
  a.rule === e.rule && Object.entries(e.labels).every(([k, v]) => a.labels[k] === v) && (e.severity === undefined || a.severity === e.severity) && (e.summary === undefined || a.summary === e.summary);

/** Runs a rule test file like `promtool test rules`; returns the report lines and whether every case passed. */
export function runRuleTests(file: string): { ok: boolean; lines: string[] } {
  const r = RuleTestFile.safeParse(parseYaml(readFileSync(file, 'utf8')));
  if (!r.success) throw new ConfigError(file, issueLines(r.error));
  const rules: RuleDef[] = [
    ...(r.data.rule_files ?? []).flatMap((f) => loadRulesFile(resolve(dirname(file), f))),
    ...(r.data.rules ? loadRules(r.data.rules, `${file}: rules`) : []),
  ];
  const lines: string[] = [];
  let ok = true;
  for (const t of r.data.tests) {
    const clock = new FakeClock(T0);
    const tagsByDevice = new Map<string, Record<string, string>>();
    const engine = new RuleEngine({ rules, clock, tagsOf: (d) => tagsByDevice.get(d) ?? { device: d } });
    const input = [...t.input].sort((a, b) => a.at - b.at);
    const checks = [...t.expect].sort((a, b) => a.at - b.at);
    const end = Math.max(...input.map((i) => i.at), ...checks.map((c) => c.at));
    const failures: string[] = [];
    let next = 0;
    let check = 0;
    // One step per second of virtual time, inputs first, then the tick, then the checks due.
    for (let at = 0; at <= end; at += 1000) {
      clock.set(T0 + at);
      while (next < input.length && (input[next]?.at ?? Infinity) <= at) {
        const i = input[next++] as z.output<typeof Input>;
        if ('tags' in i && i.tags) {
          const device = 'device' in i ? i.device : 'event' in i ? i.event.device : 'status' in i ? i.status.device : '';
          tagsByDevice.set(device, { device, ...i.tags });
        }
        if ('metric' in i) engine.onPoint({ device: i.device, metric: i.metric, value: i.value, ts: clock.now() });
        else if ('event' in i) engine.onEvent({ ...i.event, ts: clock.now() }, 'device');
        else if ('security' in i) engine.onEvent({ ...i.security, ts: clock.now() }, 'security');
        else engine.onStatus(i.status.device, i.status.status, clock.now());
      }
      engine.tick(clock.now());
      while (check < checks.length && (checks[check]?.at ?? Infinity) <= at) {
        const c = checks[check++] as (typeof checks)[number];
        const firing = engine.alerts({ state: 'firing' });
        const missing = c.alerts.filter((e) => !firing.some((a) => matches(a, e)));
        const extra = firing.filter((a) => !c.alerts.some((e) => matches(a, e)));
        for (const m of missing) failures.push(`at ${c.at / 1000}s: expected ${m.rule} ${JSON.stringify(m.labels)} firing, it is not`);
        for (const x of extra) failures.push(`at ${c.at / 1000}s: unexpected ${x.rule} ${JSON.stringify(x.labels)}: ${x.summary}`);
      }
    }
    ok &&= failures.length === 0;
    lines.push(`${failures.length === 0 ? 'PASS' : 'FAIL'} ${t.name}`, ...failures.map((f) => `  ${f}`));
  }
  return { ok, lines };
}

/** `watchfloor rules test FILE...`: exit 0 when every case passes, 1 when one fails, 2 on a bad file. */
export function runRulesCommand(args: string[]): number {
  const [sub, ...files] = args;
  // `rules lint PATH...` and `rules test --sigma ...` run in cli/sigma-command.ts (they read raw syslog lines with the collector's parser).
  if (sub !== 'test' || files.length === 0 || files.includes('--help')) {
    process.stdout.write(
      'Usage: watchfloor rules test FILE...\n       watchfloor rules test --sigma RULES [--sigma RULES...] --lines FILE\n       watchfloor rules lint PATH...\n\n  test FILE: runs rule tests (input series and events on a virtual clock, expected firing alerts), like promtool test rules.\n  test --sigma: replays sample lines (raw syslog or NDJSON log lines) through Sigma rules and prints the detections.\n  lint: loads Sigma rules from files and folders, prints "N of M rules loaded" and why each other rule cannot run.\n',
    );
    return sub === 'test' || sub === 'lint' || sub === '--help' || sub === undefined ? 0 : 2;
  }
  let ok = true;
  for (const f of files) {
    try {
      const r = runRuleTests(f);
      process.stdout.write(`${f}\n${r.lines.map((l) => `  ${l}`).join('\n')}\n`);
      ok &&= r.ok;
    } catch (err) {
      process.stderr.write(`${(err as Error).message}\n`);
      return 2;
    }
  }
  return ok ? 0 : 1;
}
