import { z } from 'zod';
import { badRequest, compileSafeRegex, RegexSyntaxError, type Clock, type Logger } from '../../core/index.ts';

/** Per-phase latency of one probe, in milliseconds (a phase that did not happen is 0). */
export interface CheckPhases {
  dnsMs: number;
  connectMs: number;
  tlsMs: number;
  firstByteMs: number;
}

/**
 * What one probe found. A failure always carries `reason` in words a technician can act on
 * ("expected status 200, got 500"); `warning` marks an up result that needs attention soon
 * ("certificate expires in 15.0 days"), which a service shows as degraded.
 */
export interface CheckResult {
  ok: boolean;
  state: 'up' | 'down';
  reason?: string;
  warning?: string;
  latencyMs: number;
  phases?: CheckPhases;
  details?: Record<string, unknown>;
}

/** What a probe gets from outside: cancellation (the timeout), time, and where to log. */
export interface CheckContext {
  signal: AbortSignal;
  clock: Clock;
  logger: Logger;
}

/** One kind of check (http, tls, tcp, dns, icmp): its config schema and how to probe once. `run` never throws. */
export interface CheckType<C extends CheckConfigBase = CheckConfigBase> {
  readonly name: string;
  readonly schema: z.ZodType<C>;
  run(config: C, ctx: CheckContext): Promise<CheckResult>;
}

/** The defaults every check type shares, stated once (Telegraf's habit). */
export const CHECK_DEFAULTS = {
  intervalSeconds: 60,
  timeoutSeconds: 10,
  /** Failed probes tolerated before "down" (Uptime Kuma's retries, Zabbix's attempts minus one). */
  retries: 1,
} as const;

/** Fields common to every check config; each type extends this with its own. */
export const checkBase = z.object({
  id: z.string().min(1).max(200).optional(),
  intervalSeconds: z.number().min(1).max(86_400).default(CHECK_DEFAULTS.intervalSeconds),
  timeoutSeconds: z.number().min(0.1).max(300).default(CHECK_DEFAULTS.timeoutSeconds),
  retries: z.number().int().min(0).max(20).default(CHECK_DEFAULTS.retries),
  /** How soon to probe again while failing but not yet down; defaults to the interval. */
  retryIntervalSeconds: z.number().min(1).max(86_400).optional(),
});
export type CheckConfigBase = z.infer<typeof checkBase> & { type: string };

/** A port number, 1–65535. */
export const port = z.number().int().min(1, 'port must be 1–65535').max(65_535, 'port must be 1–65535');

/**
 * A host name or IP address (no scheme, no path). It never starts with "-", so it cannot be
 * read as an option by a child process such as fping.
 */
export const host = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[?[0-9A-Fa-f:.]+\]?)$/, 'expected a host name or an IP address');

/** A user-supplied regex: must compile under RE2 (linear time), so a pattern can never stall the loop. */
export const safeRegex = z.string().superRefine((pattern, ctx) => {
  try {
    compileSafeRegex(pattern);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof RegexSyntaxError ? err.message : String(err) });
  }
});

/** A PEM certificate bundle (trusted CAs for a private estate). */
export const pem = z.string().regex(/-----BEGIN CERTIFICATE-----/, 'expected PEM certificates');

const types = new Map<string, CheckType>();

/** Registers a check type under its name; a second registration of a name is a bug. */
export function registerCheckType<C extends CheckConfigBase>(type: CheckType<C>): void {
  if (types.has(type.name)) throw new Error(`check type "${type.name}" is already registered`);
  types.set(type.name, type as unknown as CheckType);
}

/** The registered check type of that name, or undefined. */
export function checkType(name: string): CheckType | undefined {
  return types.get(name);
}

/** The names of the registered check types. */
export function checkTypeNames(): string[] {
  return [...types.keys()];
}

/**
 * Validates one check config against its type's schema and fills the defaults; a bad one throws a
 * 400 WatchfloorError whose `field` is the path of the first fault (`url`, `expect.bodyRegex`).
 * `prefix` is prepended to the field, for a check inside a larger document (`checks.0`).
 */
export function parseCheck(input: unknown, prefix = ''): CheckConfigBase {
  const at = (f: string): string => (prefix ? `${prefix}.${f}` : f);
  const name = typeof input === 'object' && input !== null ? (input as { type?: unknown }).type : undefined;
  const type = typeof name === 'string' ? types.get(name) : undefined;
  if (!type) {
    throw badRequest(at('type'), `${at('type')}: expected one of ${checkTypeNames().join(', ')}, got ${JSON.stringify(name) ?? 'nothing'}`);
  }
  const r = type.schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = at(issue && issue.path.length > 0 ? issue.path.join('.') : 'type');
  throw badRequest(field, `${field}: ${issue?.message ?? 'invalid'}`);
}

/** Runs one probe of an already parsed config with its registered type; an unknown type is a down result. */
export function runCheck(config: CheckConfigBase, ctx: CheckContext): Promise<CheckResult> {
  const type = types.get(config.type);
  if (!type) return Promise.resolve(down(`unknown check type "${config.type}"`, 0));
  return type.run(config, ctx).catch((err: unknown) => down(`check failed: ${err instanceof Error ? err.message : String(err)}`, 0));
}

/** A failed result; `reason` is mandatory by construction. */
export function down(reason: string, latencyMs: number, extra: Partial<CheckResult> = {}): CheckResult {
  return { ...extra, ok: false, state: 'down', reason, latencyMs: round(latencyMs) };
}

/** A passed result. */
export function up(latencyMs: number, extra: Partial<CheckResult> = {}): CheckResult {
  return { ...extra, ok: true, state: 'up', latencyMs: round(latencyMs) };
}

/** Milliseconds with 0.01 ms resolution: enough for loopback, short in JSON. */
export const round = (ms: number): number => Math.round(ms * 100) / 100;

/** When each step of a probe ended (performance.now()); a step not reached is absent. */
export interface PhaseMarks {
  lookup?: number;
  connect?: number;
  secure?: number;
  /** The first byte from the target (an HTTP response's head, a banner). */
  response?: number;
}

/** Each phase's share of a probe started at `t0`, every step measured from the end of the one before; 0 for a step not reached. */
export function phasesOf(t0: number, marks: PhaseMarks): CheckPhases {
  const afterDns = marks.lookup ?? t0;
  const connected = marks.connect ?? afterDns;
  const ready = marks.secure ?? connected;
  return {
    dnsMs: round(marks.lookup !== undefined ? marks.lookup - t0 : 0),
    connectMs: round(marks.connect !== undefined ? marks.connect - afterDns : 0),
    tlsMs: round(marks.secure !== undefined ? marks.secure - connected : 0),
    firstByteMs: round(marks.response !== undefined ? marks.response - ready : 0),
  };
}
