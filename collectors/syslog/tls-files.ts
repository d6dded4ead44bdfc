/*
 * The syslog TLS listener's certificate (RFC 5425 §5): the configured PEM files, or a self-signed pair
 * made once with Debian's `openssl` under the data directory, or none (TLS off, said once in the log).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tightenSecretFile, type Logger, type SyslogConfig } from '../../core/index.ts';
import type { SyslogTlsOptions } from './receiver.ts';

/** Where the made pair is kept, inside the data directory. */
export const SELF_SIGNED_DIR = 'syslog-tls';

/** The TLS options of the receiver, or undefined when TLS cannot run (logged). */
export function syslogTls(cfg: SyslogConfig['tls'], dataDir: string, logger: Logger): SyslogTlsOptions | undefined {
  const ca = cfg.ca ? readFileSync(cfg.ca) : undefined;
  const clientCerts = { ...(ca ? { ca } : {}), requireClientCert: cfg.requireClientCert };
  if (cfg.cert && cfg.key) return { cert: readFileSync(cfg.cert), key: readFileSync(cfg.key), ...clientCerts };
  if (cfg.cert || cfg.key) {
    logger.error('syslog: TLS needs both syslog.tls.cert and syslog.tls.key; TLS is off');
    return undefined;
  }
  const dir = join(dataDir, SELF_SIGNED_DIR);
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const name = hostname();
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '825',
        '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name},DNS:localhost,IP:127.0.0.1`,
        '-keyout', key, '-out', cert,
      ], { stdio: 'ignore', timeout: 15_000 });
      tightenSecretFile(key);
      logger.info({ cert }, 'syslog: no TLS certificate configured; made a self-signed one with openssl (set syslog.tls.cert and key for your own)');
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'syslog: no TLS certificate configured and openssl could not make one; syslog over TLS is off');
      return undefined;
    }
  }
  return { cert: readFileSync(cert), key: readFileSync(key), ...clientCerts };
}
