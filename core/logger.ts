import { pino, type Logger } from 'pino';

export type { Logger };

/** The product's structured logger (JSON lines on stdout); `WATCHFLOOR_LOG_LEVEL` sets the level. */
export function createLogger(name = 'watchfloor', level = process.env.WATCHFLOOR_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: undefined });
}

/** A logger that writes nothing, for tests and benchmarks that assert on behaviour, not on logs. */
export const silentLogger: Logger = pino({ level: 'silent' });
