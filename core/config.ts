import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './errors.ts';
import { Inventory } from './inventory.ts';
import { MqttConfig } from './mqtt-config.ts';
import { StoreConfig } from './store-config.ts';
import { LogsConfig, SigmaConfig, SyslogConfig } from './logs-config.ts';

export { MqttConfig, StoreConfig };

const Port = z.number().int().min(0).max(65535);
const MetricsToken = z.string().min(16, 'a metrics token needs at least 16 characters').regex(/^\S+$/, 'a metrics token cannot hold spaces');

/** The whole configuration with its defaults stated once; environment variables override the file. */
export const Config = z.strictObject({
  dataDir: z.string().default('./data'),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: Port.default(8080),
      /** PEM certificate and key: the ops server then speaks HTTPS only, and its cookies are Secure. */
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      /** Browser origins allowed to call the API across origins (CORS); closed when empty. */
      corsOrigins: z.array(z.url()).default([]),
      /**
       * The URL people open the UI at when it is not the server's own address (behind a reverse
       * proxy that rewrites Host): its origin is trusted for socket.io and state-changing requests.
       * Env WATCHFLOOR_PUBLIC_URL overrides it.
       */
      publicUrl: z.url().optional(),
      /**
       * When set, GET /metrics answers only `Authorization: Bearer <this>` (Prometheus' scrape config
       * `authorization: {credentials: ...}`); open when absent. Env WATCHFLOOR_METRICS_TOKEN overrides it.
       */
      metricsToken: MetricsToken.optional(),
    })
    .prefault({}),
  /** The broker: listeners, TLS, limits, lockouts, persistence (core/mqtt-config.ts). */
  mqtt: MqttConfig.prefault({}),
  snmp: z.strictObject({ trapPort: Port.default(1162) }).default({ trapPort: 1162 }),
  /** The time-series store: embedded or InfluxDB, retention tiers, limits (core/store-config.ts). */
  store: StoreConfig.prefault({}),
  /** Log lines kept (the embedded log store, DATA_DIR/logs, in both store modes): retention (core/logs-config.ts). */
  logs: LogsConfig.prefault({}),
  /** The syslog collector's listeners, TLS and batching (core/logs-config.ts). */
  syslog: SyslogConfig.prefault({}),
  /** Sigma rules run on every log line: the built-in pack and more folders. */
  sigma: SigmaConfig.prefault({}),
  /** A path (relative to the config file) or the inventory inline. */
  inventory: z.union([z.string(), Inventory]).default('sample-datacenter.yaml'),
  /** Rule definitions (validated by rules/), a path or inline; the built-in rules apply when absent. */
  rules: z.union([z.string(), z.array(z.unknown())]).optional(),
  /** Notification receivers, routes and escalation (validated by rules/notify). */
  notify: z.unknown().optional(),
  /** InfluxDB line protocol writers: device tags, limits, auto-registration (validated by collectors/line-protocol). */
  lineProtocol: z.unknown().optional(),
  /** Network discovery sweeps: allowed ranges, rate limit, timeouts (validated by collectors/discovery). */
  discovery: z.unknown().optional(),
  /** Run the bundled sensor fleet against the product's own broker. */
  simulate: z.boolean().default(false),
});
export type Config = z.infer<typeof Config>;

/** The folder that holds the bundled sample data center and its config. */
export const bundledConfigDir = resolve(dirname(new URL(import.meta.url).pathname), '..', 'config');

/** Turns zod issues into "path.in.file: message" lines. */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/** Reads a YAML or JSON file (YAML is a superset) and validates it, or throws a ConfigError naming the path. */
export function readDataFile<T extends z.ZodType>(file: string, schema: T): z.infer<T> {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, [(err as Error).message.split('\n')[0] ?? 'unreadable']);
  }
  const r = schema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(file, issueLines(r.error));
  return r.data;
}

const envPort = (name: string, env: NodeJS.ProcessEnv): number | undefined => {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(name, [`${name}: "${v}" is not a port number`]);
  return n;
};

export interface LoadedConfig {
  config: Config;
  inventory: Inventory;
  /** Where relative paths in the config resolve from. */
  baseDir: string;
}

/** Loads the config file (or the defaults with the bundled sample), applies the environment, loads the inventory. */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const baseDir = file ? dirname(resolve(file)) : bundledConfigDir;
  const config = file ? readDataFile(file, Config) : Config.parse({});
  const http = envPort('WATCHFLOOR_HTTP_PORT', env);
  if (http !== undefined) config.http.port = http;
  const mqtt = envPort('WATCHFLOOR_MQTT_PORT', env);
  if (mqtt !== undefined) config.mqtt.port = mqtt;
  const mqtts = envPort('WATCHFLOOR_MQTTS_PORT', env);
  if (mqtts !== undefined) config.mqtt.tls.port = mqtts;
  const trap = envPort('WATCHFLOOR_SNMP_TRAP_PORT', env);
  if (trap !== undefined) config.snmp.trapPort = trap;
  // WATCHFLOOR_SYSLOG_PORT is UDP and TCP both (collectors/syslog/ports.ts).
  const syslog = envPort('WATCHFLOOR_SYSLOG_PORT', env);
  if (syslog !== undefined) config.syslog.udpPort = config.syslog.tcpPort = syslog;
  const syslogTls = envPort('WATCHFLOOR_SYSLOG_TLS_PORT', env);
  if (syslogTls !== undefined) config.syslog.tlsPort = syslogTls;
  if (env.WATCHFLOOR_SYSLOG_HOST) config.syslog.host = env.WATCHFLOOR_SYSLOG_HOST;
  if (env.WATCHFLOOR_HTTP_HOST) config.http.host = env.WATCHFLOOR_HTTP_HOST;
  if (env.WATCHFLOOR_MQTT_HOST) config.mqtt.host = env.WATCHFLOOR_MQTT_HOST;
  if (env.WATCHFLOOR_DATA_DIR) config.dataDir = env.WATCHFLOOR_DATA_DIR;
  if (env.WATCHFLOOR_PUBLIC_URL) {
    const url = z.url().safeParse(env.WATCHFLOOR_PUBLIC_URL);
    if (!url.success) throw new ConfigError('WATCHFLOOR_PUBLIC_URL', ['WATCHFLOOR_PUBLIC_URL: not a URL']);
    config.http.publicUrl = url.data;
  }
  if (env.WATCHFLOOR_METRICS_TOKEN) {
    const token = MetricsToken.safeParse(env.WATCHFLOOR_METRICS_TOKEN);
    if (!token.success) throw new ConfigError('WATCHFLOOR_METRICS_TOKEN', issueLines(token.error).map((l) => `WATCHFLOOR_METRICS_TOKEN: ${l.replace(/^\(root\): /, '')}`));
    config.http.metricsToken = token.data;
  }
  config.dataDir = resolve(file ? baseDir : process.cwd(), config.dataDir);
  // The broker's PEM files, like the inventory, are named relative to the config file's folder.
  const tls = config.mqtt.tls;
  for (const key of ['cert', 'key', 'ca'] as const) {
    const path = tls[key];
    if (path !== undefined) tls[key] = resolve(baseDir, path);
  }
  const syslogTlsFiles = config.syslog.tls;
  for (const key of ['cert', 'key', 'ca'] as const) {
    const path = syslogTlsFiles[key];
    if (path !== undefined) syslogTlsFiles[key] = resolve(baseDir, path);
  }
  config.sigma.rules = config.sigma.rules.map((p) => resolve(baseDir, p));
  const inventory =
    typeof config.inventory === 'string' ? readDataFile(resolve(baseDir, config.inventory), Inventory) : config.inventory;
  return { config, inventory, baseDir };
}
