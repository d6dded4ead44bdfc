/**
 * `watchfloor config check FILE`: everything `watchfloor start --config FILE` validates before it opens
 * a port, without opening one. The same validators run (core's Config, the rules file, the `notify`,
 * `lineProtocol` and `discovery` sections, the inventory), and every section is checked so one run
 * lists every problem; a TLS file named but missing is reported here rather than as ENOENT at start.
 * What start logs and runs past (a MIB file that does not load) is a warning: listed, exit code 0.
 */
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { LineProtocolConfig, loadMibs, loadProfileSet, parseDiscoveryConfig } from '../collectors/index.ts';
import { ConfigError, issueLines, loadConfig, type LoadedConfig } from '../core/index.ts';
import { parseNotifyConfig } from '../rules/index.ts';
import { rulesFor } from './rules-source.ts';

const HELP = `Usage: watchfloor config check FILE

  Validates FILE as \`watchfloor start --config FILE\` would (with the WATCHFLOOR_* environment applied),
  starts nothing, and prints "ok" with a summary (exit 0) or every problem as "where: field: message" (exit 1).
  Warnings (MIB files in snmp.mibsDir that do not load, or load with names left unresolved) are listed
  too; start runs with them (it logs each and goes on without the names), so they leave the exit code 0.
`;

/** The result of a check: the summary when valid, else each problem as "source: path.field: message". */
export interface ConfigCheck {
  ok: boolean;
  problems: string[];
  /** What start logs and runs past, each as "file: message" (MIB files that did not load, or loaded in part). */
  warnings: string[];
  summary?: string;
}

/** Checks a config file as `start` would read it; never throws for a bad config. */
export function checkConfig(file: string, env: NodeJS.ProcessEnv = process.env): ConfigCheck {
  if (!existsSync(file)) return { ok: false, problems: [`${file}: no such file`], warnings: [] };
  let loaded: LoadedConfig;
  try {
    loaded = loadConfig(file, env);
  } catch (err) {
    // Config itself or the inventory: the sections below depend on it, so stop here.
    return { ok: false, problems: linesOf(err, file), warnings: [] };
  }
  const { config, baseDir } = loaded;
  const problems: string[] = [];
  const attempt = <T>(run: () => T): T | undefined => {
    try {
      return run();
    } catch (err) {
      problems.push(...linesOf(err, file));
      return undefined;
    }
  };
  const rules = attempt(() => rulesFor(config, baseDir));
  const notify = config.notify === undefined ? undefined : attempt(() => parseNotifyConfig(config.notify));
  attempt(() => {
    // The collector's constructor runs this parse (collectors/line-protocol/collector.ts), in the same words.
    const parsed = LineProtocolConfig.safeParse(config.lineProtocol ?? {});
    if (!parsed.success) throw new ConfigError('config: lineProtocol', issueLines(parsed.error).map((l) => `lineProtocol.${l}`));
  });
  attempt(() => parseDiscoveryConfig(config.discovery));
  // SNMP profiles as the collector loads them, MIB names resolved; a MIB that does not load is logged at
  // start, not fatal, so here a warning in the words of that log line (collectors/snmp-common/mibs.ts).
  const mibs = config.snmp.mibsDir?.length ? loadMibs({ dirs: config.snmp.mibsDir }) : undefined;
  const warnings = (mibs?.problems ?? []).map((p) => `${p.file}: MIB file ${basename(p.file)} ${p.loaded ? 'loaded with names left unresolved' : 'not loaded'}: ${p.reason}`);
  attempt(() => loadProfileSet({ dir: config.snmp.profilesDir, mibs }));
  const pem: [string, string | undefined][] = [
    ['http.tls.cert', config.http.tls?.cert], ['http.tls.key', config.http.tls?.key],
    ['mqtt.tls.cert', config.mqtt.tls.cert], ['mqtt.tls.key', config.mqtt.tls.key], ['mqtt.tls.ca', config.mqtt.tls.ca],
    ['syslog.tls.cert', config.syslog.tls.cert], ['syslog.tls.key', config.syslog.tls.key], ['syslog.tls.ca', config.syslog.tls.ca],
  ];
  for (const [field, path] of pem) if (path !== undefined && !existsSync(path)) problems.push(`${file}: ${field}: no such file: ${path}`);
  if (problems.length > 0) return { ok: false, problems, warnings };

  const mqtt = config.mqtt.external ? `external broker ${config.mqtt.external.url}` : `embedded broker on ${config.mqtt.host}:${config.mqtt.port} (persistence ${config.mqtt.persistence})`;
  const store = config.store.kind === 'influxdb' ? `influxdb ${config.store.influxdb?.url}` : 'embedded';
  const summary = [
    `${loaded.inventory.devices.length} devices`,
    `${rules?.length ?? 0} rules`,
    `${notify?.receivers.length ?? 0} notification receivers`,
    `store ${store}`,
    mqtt,
    `http ${config.http.host}:${config.http.port}${config.http.tls ? ' (TLS)' : ''}`,
    `data ${config.dataDir}`,
  ].join(', ');
  return { ok: true, problems: [], warnings, summary };
}

/** `watchfloor config check FILE`. */
export function runConfigCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
  const [sub, file, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (sub !== 'check' || file === undefined || extra.length > 0) {
    process.stderr.write(HELP);
    return 2;
  }
  const r = checkConfig(file);
  const warnings = r.warnings.length === 0 ? '' :
    `${r.warnings.map((w) => `  warning: ${w}\n`).join('')}  (${r.warnings.length} warning${r.warnings.length === 1 ? '' : 's'}: start runs with ${r.warnings.length === 1 ? 'it' : 'them'}, logging each, without the names such a file defines; the exit code stays 0 for warnings)\n`;
  if (r.ok) {
    process.stdout.write(`ok: ${file}: ${r.summary}\n${warnings}`);
    return 0;
  }
  process.stderr.write(`watchfloor: ${file} is not a valid configuration:\n${r.problems.map((p) => `  ${p}\n`).join('')}${warnings}`);
  return 1;
}

/**
 * A ConfigError's issues, each as "file: section.field: message": the validators of a section name it
 * "config: notify" and their fields from inside it, so both are rewritten to the file and the full path.
 */
function linesOf(err: unknown, file: string): string[] {
  if (!(err instanceof ConfigError)) return [`${file}: ${(err as Error).message?.split('\n')[0] ?? String(err)}`];
  const section = err.file.startsWith('config: ') ? err.file.slice('config: '.length) : undefined;
  if (section === undefined) return err.issues.map((i) => `${err.file}: ${i}`);
  return err.issues.map((i) => `${file}: ${i.startsWith(section) ? i : `${section}.${i}`}`);
}
