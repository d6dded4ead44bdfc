import { readFileSync } from 'node:fs';
import { parseSyslogLine } from '../collectors/syslog/index.ts';
import type { LogLine } from '../core/index.ts';
import { compileSigma, readSigmaSources, SigmaEngine, type Detection } from '../rules/index.ts';

/** `watchfloor rules lint PATH...`: prints `N of M rules loaded` and each rule that cannot run; exit 0 when all load, 1 otherwise, 2 on a path that cannot be read. */
export function runSigmaLint(paths: string[], out = process.stdout): number {
  let sources;
  try {
    sources = readSigmaSources(paths);
  } catch (err) {
    process.stderr.write(`watchfloor rules lint: ${(err as Error).message}\n`);
    return 2;
  }
  const { rules, errors, total } = compileSigma(sources);
  out.write(`${rules.length} of ${total} rules loaded\n`);
  for (const e of errors) out.write(`${e.file}: ${e.rule}: ${e.reason}\n`);
  return errors.length === 0 ? 0 : 1;
}

const T0 = Date.UTC(2024, 0, 1);

/** One sample line: NDJSON of the LogLine shape, or a raw syslog line read by the syslog collector's parser. */
export function sampleLine(text: string, receivedAt = T0): LogLine {
  if (text.startsWith('{')) {
    const o = JSON.parse(text) as Partial<LogLine>;
    if (typeof o.message !== 'string') throw new Error('a JSON sample line needs at least "message"');
    return { ts: typeof o.ts === 'number' ? o.ts : receivedAt, host: o.host ?? '', facility: o.facility ?? 'user', severity: o.severity ?? 'notice', program: o.program ?? '', message: o.message, fields: o.fields ?? {}, ...(o.device ? { device: o.device } : {}), ...(o.pid !== undefined ? { pid: o.pid } : {}) };
  }
  return parseSyslogLine(text, { receivedAt, source: '127.0.0.1' });
}

/** Replays sample lines through Sigma rules, the clock being each line's own time; returns the detections. */
export function replaySigma(rulesPaths: string[], lines: string[]): { detections: Detection[]; errors: string[] } {
  const { rules, errors } = compileSigma(readSigmaSources(rulesPaths));
  const engine = new SigmaEngine(rules);
  const detections: Detection[] = [];
  lines.forEach((raw) => {
    if (raw.trim() === '') return;
    const line = sampleLine(raw);
    detections.push(...engine.onLine(line, line.claimedTs ?? line.ts));
  });
  return { detections, errors: errors.map((e) => `${e.file}: ${e.rule}: ${e.reason}`) };
}

/** `watchfloor rules test --sigma RULES... --lines FILE`: prints each detection; exit 0, or 2 on bad input. */
export function runSigmaTest(args: string[], out = process.stdout): number {
  const rulesPaths: string[] = [];
  let linesFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--sigma' && args[i + 1]) rulesPaths.push(args[++i] as string);
    else if (args[i] === '--lines' && args[i + 1]) linesFile = args[++i];
    else {
      process.stderr.write(`watchfloor rules test: unexpected "${args[i]}"\n`);
      return 2;
    }
  }
  if (rulesPaths.length === 0 || !linesFile) {
    process.stderr.write('Usage: watchfloor rules test --sigma RULES [--sigma RULES...] --lines FILE\n');
    return 2;
  }
  try {
    const { detections, errors } = replaySigma(rulesPaths, readFileSync(linesFile, 'utf8').split('\n'));
    for (const e of errors) out.write(`not loaded: ${e}\n`);
    for (const d of detections) {
      const who = Object.entries({ ...d.entities, ...d.groupBy }).map(([k, v]) => `${k}=${v}`).join(' ');
      out.write(`${new Date(d.ts).toISOString()} ${d.level} ${d.title} (${d.ruleId}) [${d.attack.join(',')}] ${who} lines=${d.lines.length}\n`);
    }
    out.write(`${detections.length} detections\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`watchfloor rules test: ${(err as Error).message}\n`);
    return 2;
  }
}
