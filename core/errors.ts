/**
 * Every error Watchfloor answers or logs with a code, declared once here (after fastify's FST_ERR_*
 * catalogue): its stable code, its HTTP status and its message template. A log line or an API answer
 * says what went wrong and where to look; no `WF_ERR_*` literal is written anywhere else.
 *
 * To add one: an entry below (the key is the code without `WF_ERR_`), then `wfError('KEY', ...args)`.
 */
const catalogue = {
  // Requests
  BAD_REQUEST: { status: 400, message: (text: string) => text },
  BAD_JSON: { status: 400, message: () => 'the request body is not valid JSON' },
  TOO_LARGE: { status: 413, message: () => 'the request body is too large' },
  NOT_FOUND: { status: 404, message: (what: string) => `${what} not found` },
  CONFLICT: { status: 409, message: (text: string) => text },
  INTERNAL: { status: 500, message: () => 'internal error; see the server log' },
  UNAVAILABLE: { status: 503, message: (text: string) => text },
  // Who may ask
  UNAUTHORIZED: { status: 401, message: (text = 'log in first') => text },
  FORBIDDEN: { status: 403, message: (text = 'your role does not allow this') => text },
  LOGIN_FAILED: { status: 401, message: () => 'wrong username or password' },
  LOCKED: { status: 429, message: (text: string) => text },
  BAD_TOKEN: { status: 401, message: () => 'the API token is malformed, unknown or revoked' },
  CSRF: { status: 403, message: () => 'missing or wrong X-CSRF-Token header' },
  ORIGIN: { status: 403, message: (text: string) => text },
  // Configuration and rules
  CONFIG: { status: 500, message: (file: string, issues: readonly string[]) => `invalid configuration in ${file}:\n  ${issues.join('\n  ')}` },
  RULES: { status: 400, message: (text: string) => text },
  // Devices and their commands
  NO_COMMANDS: { status: 400, message: (kind: string) => `a ${kind} takes no commands (crac, pdu and ups do)` },
  DEVICE_TIMEOUT: { status: 504, message: (device: string, command: string, ms: number) => `${device} did not answer "${command}" within ${ms} ms; it may be offline` },
  COMMAND_FAILED: { status: 502, message: (device: string, command: string, reason: string) => `${device} refused "${command}": ${reason}` },
  // Stores
  STORE_OPEN: { status: 500, message: (text: string) => text },
  STORE_WRITE: { status: 500, message: (text: string) => text },
  STORE_CLOSED: { status: 503, message: (what: string) => `the ${what} is closed` },
  STORE_QUERY: { status: 502, message: (text: string) => text },
  STORE_UNAVAILABLE: { status: 503, message: (text: string) => text },
  /** The data directory's format marker (cli/data-dir.ts): written by a newer version, or unreadable. */
  DATA_DIR: { status: 500, message: (text: string) => text },
  /** The ingest write-ahead log could not be written: the publish is refused, not acknowledged, and the publisher sends it again. */
  WAL_WRITE: { status: 503, message: (reason: string) => `ingest write-ahead log: ${reason}` },
  // Network discovery (collectors/discovery): a range too large without force, or outside discovery.allowedCidrs
  DISCOVERY_RANGE: { status: 400, message: (text: string) => text },
  DISCOVERY_BUSY: { status: 429, message: (running: number) => `${running} discovery sweeps are running already; wait for one to end or cancel one` },
  // Simulators
  SIMULATOR_OPTIONS: { status: 400, message: (text: string) => text },
  MQTT_CONNECT: { status: 502, message: (url: string, reason: string) => `cannot connect to the MQTT broker at ${url}: ${reason}` },
} satisfies Record<string, { status: number; message: (...args: never[]) => string }>;

export type ErrorKey = keyof typeof catalogue;
/** A code as it appears on the wire and in logs: `WF_ERR_` and the catalogue key. */
export type ErrorCode = `WF_ERR_${ErrorKey}`;

export const errorCode = (key: ErrorKey): ErrorCode => `WF_ERR_${key}`;
export const errorStatus = (key: ErrorKey): number => catalogue[key].status;

export class WatchfloorError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status = 500,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'WatchfloorError';
  }
}

type MessageArgs<K extends ErrorKey> = Parameters<(typeof catalogue)[K]['message']>;

/** The catalogue's error `key`, its message made from `args`; `field` names the request field at fault. */
export function wfError<K extends ErrorKey>(key: K, ...args: MessageArgs<K>): WatchfloorError {
  const message = (catalogue[key].message as (...a: MessageArgs<K>) => string)(...args);
  return new WatchfloorError(errorCode(key), message, catalogue[key].status);
}

/** The same, naming the request field (or header) that was wrong. */
export function wfFieldError<K extends ErrorKey>(key: K, field: string, ...args: MessageArgs<K>): WatchfloorError {
  const e = wfError(key, ...args);
  return new WatchfloorError(e.code, e.message, e.status, field);
}

/** True when `err` is the catalogue's error `key` (a simulator's caller tells a bad option from a broker that is down). */
export const isWfError = (err: unknown, key: ErrorKey): err is WatchfloorError =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === errorCode(key);

/** A configuration or inventory file that does not validate; `issues` name the path inside the file. */
export class ConfigError extends WatchfloorError {
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(errorCode('CONFIG'), catalogue.CONFIG.message(file, issues), catalogue.CONFIG.status);
    this.name = 'ConfigError';
  }
}

export const badRequest = (field: string, message: string): WatchfloorError => wfFieldError('BAD_REQUEST', field, message);
export const notFound = (what: string): WatchfloorError => wfError('NOT_FOUND', what);
export const unauthorized = (): WatchfloorError => wfError('UNAUTHORIZED');
export const forbidden = (message?: string, field?: string): WatchfloorError =>
  field ? wfFieldError('FORBIDDEN', field, message) : wfError('FORBIDDEN', message);
export const conflict = (message: string): WatchfloorError => wfError('CONFLICT', message);
