import { existsSync, readFileSync, statSync } from 'node:fs';
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

/** The roles a directory group can give (ops-server/users.ts Role; core cannot import it). */
const DirectoryRole = z.enum(['admin', 'noc', 'soc', 'viewer']);
const isLoopbackLdap = (url: string): boolean => /^ldap:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/i.test(url);

/**
 * Sign-in against LDAP or Active Directory (ops-server/directory): people bind as themselves with
 * their own password, and their groups give their role. Local accounts keep working beside it.
 */
export const LdapConfig = z
  .strictObject({
    /** `ldap://host:389` or `ldaps://host:636`: scheme, host and port only. */
    url: z.string().regex(/^ldaps?:\/\/[^/\s?#]+\/?$/i, 'an ldap:// or ldaps:// URL: scheme, host and port only'),
    /** Upgrade an ldap:// connection with StartTLS (RFC 4511 4.14) before any password is sent. */
    startTls: z.boolean().default(false),
    /** PEM CA certificate(s) the server's certificate must chain to (ldaps:// or StartTLS); the system's CAs when absent. */
    caFile: z.string().min(1).optional(),
    /** Bind straight to this DN, `{user}` replaced by the DN-escaped user name (RFC 4514), e.g. `uid={user},ou=people,dc=example,dc=org`. */
    userDn: z.string().includes('{user}', { message: 'must hold {user}' }).optional(),
    /** Or find the user first (Active Directory): as this service account, under baseDn, with this filter. */
    search: z
      .strictObject({
        /** The service account; anonymous search when absent. */
        bindDn: z.string().min(1).optional(),
        /** A file holding the service account's password (first line), mode 600: never the password itself here. */
        bindPasswordFile: z.string().min(1).optional(),
        baseDn: z.string().min(1),
        /** `{user}` replaced by the filter-escaped user name (RFC 4515): `(sAMAccountName={user})` for AD. */
        filter: z.string().includes('{user}', { message: 'must hold {user}' }).default('(uid={user})'),
      })
      .refine((s) => (s.bindDn === undefined) === (s.bindPasswordFile === undefined), { message: 'bindDn and bindPasswordFile go together', path: ['bindPasswordFile'] })
      .optional(),
    /** Where a user's groups are read: an attribute of the user's entry (memberOf), or a search for groups naming the user. */
    groups: z
      .strictObject({
        attribute: z.string().min(1).optional(),
        search: z
          .strictObject({
            baseDn: z.string().min(1),
            /** `{dn}` is the user's DN, `{user}` the name, both filter-escaped. */
            filter: z.string().default('(|(member={dn})(uniqueMember={dn}))'),
          })
          .optional(),
      })
      .refine((g) => (g.attribute === undefined) !== (g.search === undefined), { message: 'give either attribute or search' })
      .default({ attribute: 'memberOf' }),
    /** Group DN -> role; compared without regard to case or spaces after commas. A user with no mapped group is refused. */
    groupRoles: z.record(z.string().min(1), DirectoryRole).refine((m) => Object.keys(m).length > 0, { message: 'map at least one group to a role' }),
    /** For each directory operation (connect, bind, search). */
    timeoutSeconds: z.number().positive().max(60).default(5),
  })
  .refine((l) => (l.userDn === undefined) !== (l.search === undefined), { message: 'give either userDn or search', path: ['userDn'] })
  .refine((l) => !(l.startTls && /^ldaps:/i.test(l.url)), { message: 'ldaps:// is TLS already: drop startTls', path: ['startTls'] })
  // Passwords go over this connection: in clear only to this machine itself.
  .refine((l) => /^ldaps:/i.test(l.url) || l.startTls || isLoopbackLdap(l.url), { message: 'ldap:// to another host sends passwords in clear: use ldaps:// or startTls: true', path: ['startTls'] });
export type LdapConfig = z.infer<typeof LdapConfig>;

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
  snmp: z
    .strictObject({
      trapPort: Port.default(1162),
      /**
       * A folder of device profile files (YAML/JSON, collectors/snmp/profiles.yaml's shape) used beside
       * the bundled ones; relative to the config file. Default: `snmp-profiles/` beside it, if there.
       */
      profilesDir: z.string().min(1).optional(),
      /** Folder(s) of MIB files read with net-snmp's parser; relative to the config file. Default: `mibs/` beside it, if there. */
      mibsDir: z.union([z.string().min(1), z.array(z.string().min(1))]).transform((v) => (typeof v === 'string' ? [v] : v)).optional(),
    })
    .prefault({}),
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
  /** Sign-in beside the local accounts: LDAP / Active Directory (ops-server/directory). */
  auth: z.strictObject({ ldap: LdapConfig.optional() }).prefault({}),
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

/**
 * `snmp.profilesDir` and `snmp.mibsDir` resolved against the config file's folder; a folder named but
 * missing is a ConfigError, and when unnamed, `snmp-profiles/` and `mibs/` beside the config file are
 * used if they exist (a profile or MIB is added by dropping a file there).
 */
function resolveSnmpFolders(config: Config, file: string | undefined, baseDir: string): void {
  const where = file ?? 'config';
  const folder = (field: string, path: string): string => {
    const abs = resolve(baseDir, path);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new ConfigError(where, [`snmp.${field}: no such folder: ${abs}`]);
    return abs;
  };
  const beside = (name: string): string | undefined => {
    const abs = resolve(baseDir, name);
    return file !== undefined && existsSync(abs) && statSync(abs).isDirectory() ? abs : undefined;
  };
  const snmp = config.snmp;
  snmp.profilesDir = snmp.profilesDir !== undefined ? folder('profilesDir', snmp.profilesDir) : beside('snmp-profiles');
  if (snmp.mibsDir !== undefined) snmp.mibsDir = snmp.mibsDir.map((d, i) => folder(`mibsDir.${i}`, d));
  else {
    const mibs = beside('mibs');
    if (mibs) snmp.mibsDir = [mibs];
  }
}

/**
 * `notify.oncall.calendars[].files` resolved against the config file's folder, like the other paths.
 * `notify` is validated later by rules/notify (core does not import it), which reads the files, so the
 * paths are rewritten in the raw section; anything not shaped as expected is left for that validation.
 */
function resolveHolidayFiles(notify: unknown, baseDir: string): void {
  const oncall = (notify as { oncall?: unknown } | null | undefined)?.oncall as { calendars?: unknown } | null | undefined;
  if (!Array.isArray(oncall?.calendars)) return;
  for (const calendar of oncall.calendars as unknown[]) {
    const c = calendar as { files?: unknown } | null;
    if (c && Array.isArray(c.files)) c.files = c.files.map((f: unknown) => (typeof f === 'string' && f !== '' ? resolve(baseDir, f) : f));
  }
}

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
  resolveSnmpFolders(config, file, baseDir);
  const ldap = config.auth.ldap;
  if (ldap?.caFile) ldap.caFile = resolve(baseDir, ldap.caFile);
  if (ldap?.search?.bindPasswordFile) ldap.search.bindPasswordFile = resolve(baseDir, ldap.search.bindPasswordFile);
  resolveHolidayFiles(config.notify, baseDir);
  const inventory =
    typeof config.inventory === 'string' ? readDataFile(resolve(baseDir, config.inventory), Inventory) : config.inventory;
  return { config, inventory, baseDir };
}
