/*
 * The product's log path (issue 15), after ingest decoded a syslog collector's batch
 * (collectors/mqtt `validateLogs`):
 *
 *   store -> tail -> evaluate -> alert
 *
 * store: the embedded log store (DATA_DIR/logs, in both store modes) gives each line its id at once;
 * tail: the stored lines to the screens tailing logs (socket.io `log`);
 * evaluate: every line through the Sigma engine (the built-in pack and `sigma.rules`);
 * alert: its detections to the rule engine, whose `sigma` rules make them security alerts with the
 * stored ids as evidence, then to the alert fan-out.
 */
import { Counter, type Registry } from 'prom-client';
import { SyslogCollector, registerSyslogMetrics, type Collector } from '../collectors/index.ts';
import type { Alert, Clock, Config, Logger, LogLine } from '../core/index.ts';
import { builtinSigmaPath, compileSigma, readSigmaSources, SIGMA_LEVELS, SigmaEngine, type Detection, type RuleEngine } from '../rules/index.ts';
import { openLogStore, registerLogStoreMetrics, type LogStore, type StoredLog } from '../store/index.ts';

export interface SocLogsOptions {
  config: Config;
  rules: RuleEngine;
  /** The alert fan-out (screens, `alerts/{id}`). */
  alerts(changes: readonly Alert[]): void;
  logger: Logger;
  clock: Clock;
}

/** Where stored lines go live: the ops server's realtime (ops-server/realtime.ts `logs`). */
export interface LogScreens {
  logs(lines: readonly StoredLog[]): void;
}

/** The log path of the running product. */
export interface SocLogs {
  readonly store: LogStore;
  readonly sigma: SigmaEngine;
  /** Detections per Sigma level since start. */
  readonly detections: Readonly<Record<string, number>>;
  /** The ingest sink's `logs`: one decoded batch. */
  onLogs(lines: LogLine[], collector: string): void;
  /** Once the ops server is up: stored lines go to the sockets tailing logs. */
  attachScreens(screens: LogScreens): void;
  /** The figures on /metrics: the log store's, the syslog collectors', the detections. */
  registerMetrics(registry: Registry, collectors: readonly Collector[]): void;
  close(): Promise<void>;
}

/** Opens the log store and compiles the Sigma rules; the rules that cannot run are logged, each once. */
export async function openSocLogs(o: SocLogsOptions): Promise<SocLogs> {
  const { config, logger, clock } = o;
  const store = await openLogStore({ dir: config.dataDir, retentionDays: config.logs.retentionDays, maxPendingLines: config.logs.maxPendingLines, logger, clock });
  const paths = [...(config.sigma.builtin ? [builtinSigmaPath] : []), ...config.sigma.rules];
  let compiled: ReturnType<typeof compileSigma> = { rules: [], errors: [], total: 0 };
  try {
    compiled = compileSigma(readSigmaSources(paths));
  } catch (err) {
    logger.error({ paths, err: (err as Error).message }, 'sigma: rules could not be read; no Sigma rule runs');
  }
  for (const e of compiled.errors) logger.warn({ file: e.file, rule: e.rule, reason: e.reason }, 'sigma: a rule cannot run and is left out');
  logger.info({ loaded: compiled.rules.length, total: compiled.total, paths }, 'sigma rules loaded');
  const sigma = new SigmaEngine(compiled.rules);
  const detections: Record<string, number> = Object.fromEntries(SIGMA_LEVELS.map((l) => [l, 0]));
  let screens: LogScreens | undefined;

  const alertOn = (found: readonly Detection[]): void => {
    if (found.length === 0) return;
    for (const d of found) detections[d.level] = (detections[d.level] ?? 0) + 1;
    const changes = o.rules.onDetections(found);
    if (changes.length > 0) o.alerts(changes);
  };

  // Correlations judged when their window closes (lt/lte/eq) need the clock, not only lines.
  const ticker = setInterval(() => {
    try {
      alertOn(sigma.tick(clock.now()));
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'sigma: closing correlation windows failed');
    }
  }, 1000);
  ticker.unref();

  return {
    store,
    sigma,
    detections,
    onLogs(lines) {
      const stored = store.append(lines);
      if (stored.length === 0) return;
      try {
        screens?.logs(stored);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'log tail: sending lines to the screens failed');
      }
      const now = clock.now();
      const found: Detection[] = [];
      for (const line of stored) {
        try {
          for (const d of sigma.onLine(line, now)) found.push(d);
        } catch (err) {
          logger.error({ err: (err as Error).message, host: line.host, program: line.program }, 'sigma: evaluating a line failed');
        }
      }
      alertOn(found);
    },
    attachScreens(s) {
      screens = s;
    },
    registerMetrics(registry, collectors) {
      registerLogStoreMetrics(registry, store);
      const syslog = collectors.filter((c): c is SyslogCollector => c instanceof SyslogCollector);
      if (syslog[0]) registerSyslogMetrics(registry, () => syslog[0]!.stats());
      new Counter({
        name: 'watchfloor_sigma_detections_total', help: 'Sigma detections on log lines (standalone rules and correlations), by level', labelNames: ['level'], registers: [registry],
        collect() {
          this.reset();
          for (const level of SIGMA_LEVELS) this.inc({ level }, detections[level] ?? 0);
        },
      });
    },
    async close() {
      clearInterval(ticker);
      await store.close();
    },
  };
}
