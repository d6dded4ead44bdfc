import { z } from 'zod';

const Port = z.number().int().min(0).max(65535);
/** A listener's port: 0 for an ephemeral one, false for none. */
const ListenerPort = z.union([Port, z.literal(false)]);

/**
 * `logs:` in the config: how long log lines are kept, like the time-series tiers of `store.retention`.
 * Lines older than `retentionDays` (by the time they were received) are deleted by the hourly maintenance.
 * The log store is embedded (DATA_DIR/logs) whatever `store.kind` says (store/logs/README.md).
 */
export const LogsConfig = z.strictObject({
  retentionDays: z.number().positive().default(30),
  /** Lines waiting for the disk; beyond it new lines are dropped and counted (`queue_full`). */
  maxPendingLines: z.number().int().positive().default(200_000),
});
export type LogsConfig = z.infer<typeof LogsConfig>;
export type LogsConfigInput = z.input<typeof LogsConfig>;

/**
 * `syslog:` in the config: the syslog collector (collectors/syslog). UDP and TCP share
 * WATCHFLOOR_SYSLOG_PORT, TLS (RFC 5425) is WATCHFLOOR_SYSLOG_TLS_PORT; loopback unless told otherwise.
 */
export const SyslogConfig = z.strictObject({
  /** false: no syslog listeners at all. */
  enabled: z.boolean().default(true),
  host: z.string().default('127.0.0.1'),
  udpPort: ListenerPort.default(1514),
  tcpPort: ListenerPort.default(1514),
  tlsPort: ListenerPort.default(6514),
  /**
   * PEM files (relative to the config file). Without cert and key, a self-signed pair is made once by
   * `openssl` under DATA_DIR/syslog-tls; without openssl, TLS is off (one log line says so).
   * With `ca`, clients are asked for a certificate signed by it; `requireClientCert` refuses those without.
   */
  tls: z.strictObject({
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    ca: z.string().min(1).optional(),
    requireClientCert: z.boolean().default(false),
  }).prefault({}),
  /** IANA zone of BSD timestamps, which carry none. */
  timezone: z.string().default('UTC'),
  /** Sustained lines per second from one source address (collectors/syslog/limits.ts has the rest). */
  ratePerSecond: z.number().int().positive().optional(),
  /** Lines per MQTT message from the collector to ingest, and the longest a line waits for its batch. */
  batch: z.strictObject({ maxLines: z.number().int().min(1).max(5000).default(200), maxDelayMs: z.number().int().min(1).max(10_000).default(20) }).prefault({}),
  /** An unknown sender raises `syslog_unknown_sender` once per source address per this many seconds. */
  unknownSenderEverySeconds: z.number().int().min(1).default(600),
});
export type SyslogConfig = z.infer<typeof SyslogConfig>;

/** `sigma:` in the config: the Sigma rules evaluated on every log line (rules/sigma). */
export const SigmaConfig = z.strictObject({
  /** The built-in pack (rules/sigma/builtin). */
  builtin: z.boolean().default(true),
  /** More Sigma files or folders, relative to the config file. */
  rules: z.array(z.string().min(1)).default([]),
});
export type SigmaConfig = z.infer<typeof SigmaConfig>;
