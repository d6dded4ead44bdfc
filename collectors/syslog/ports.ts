/** Where the receiver listens, from the environment (ARCHITECTURE.md: an environment variable overrides the config file). */

export interface SyslogPorts {
  /** UDP and TCP (both): `WATCHFLOOR_SYSLOG_PORT`, 1514 by default (514 needs privileges). */
  port: number;
  /** TLS, RFC 5425: `WATCHFLOOR_SYSLOG_TLS_PORT`, 6514 by default (the port RFC 5425 §4.1 assigns). */
  tlsPort: number;
}

function portOf(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number 0..65535, not "${value}"`);
  return n;
}

/** Reads the syslog ports from `env`; throws naming the variable when one is no port. */
export function syslogPortsFromEnv(env: NodeJS.ProcessEnv = process.env): SyslogPorts {
  return {
    port: portOf(env.WATCHFLOOR_SYSLOG_PORT, 'WATCHFLOOR_SYSLOG_PORT', 1514),
    tlsPort: portOf(env.WATCHFLOOR_SYSLOG_TLS_PORT, 'WATCHFLOOR_SYSLOG_TLS_PORT', 6514),
  };
}
