/**
 * `tls` check: a handshake that looks at the certificate instead of trusting it blindly: chain
 * valid (against the system CAs or the given `ca`), host name match (RFC 6125 via Node's
 * checkServerIdentity), days until expiry (warning 21, critical 7, both configurable) and the
 * negotiated protocol version against a minimum.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls, { type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { z } from 'zod';
import { checkBase, down, host, pem, port, phasesOf, up, type PhaseMarks, type CheckContext, type CheckResult, type CheckType } from './check.ts';
import { certificateWords, describeError, describeTimeout, type Stage } from './reasons.ts';

export const TLS_DEFAULTS = { port: 443, warningDays: 21, criticalDays: 7, minVersion: 'TLSv1.2' } as const;

const VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
const DAY_MS = 86_400_000;

export const tlsCheckSchema = checkBase.extend({
  type: z.literal('tls'),
  host,
  port: port.default(TLS_DEFAULTS.port),
  /** The name to ask for (SNI) and to match; defaults to `host` when it is a name. */
  servername: z.string().min(1).max(253).optional(),
  ca: pem.optional(),
  /** Check the chain and the host name (on unless turned off; expiry is checked either way). */
  verify: z.boolean().default(true),
  expiry: z
    .object({
      warningDays: z.number().min(0).max(3650).default(TLS_DEFAULTS.warningDays),
      criticalDays: z.number().min(0).max(3650).default(TLS_DEFAULTS.criticalDays),
    })
    .prefault({})
    .refine((e) => e.criticalDays <= e.warningDays, { message: 'criticalDays must not exceed warningDays', path: ['criticalDays'] }),
  minVersion: z.enum(VERSIONS).default(TLS_DEFAULTS.minVersion),
});
export type TlsCheckConfig = z.infer<typeof tlsCheckSchema>;

/** The subject CNs from the leaf up to the last certificate the peer sent (or its root). */
function chainNames(cert: DetailedPeerCertificate): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = cert; c && c.fingerprint256 && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    names.push(String(c.subject?.CN ?? c.subjectaltname ?? '?'));
  }
  return names;
}

/** Judges a completed handshake: the first fault found is the reason; a near expiry is a warning. */
function judge(cfg: TlsCheckConfig, socket: TLSSocket, now: number, latencyMs: number, phases: CheckResult['phases']): CheckResult {
  const cert = socket.getPeerCertificate(true);
  if (!cert || Object.keys(cert).length === 0) return down('the peer sent no certificate', latencyMs, { phases });
  const name = cfg.servername ?? cfg.host;
  const validTo = Date.parse(cert.valid_to);
  const daysLeft = (validTo - now) / DAY_MS;
  const protocol = socket.getProtocol() ?? 'unknown';
  const details = {
    subject: cert.subject?.CN,
    issuer: cert.issuer?.CN,
    validFrom: new Date(Date.parse(cert.valid_from)).toISOString(),
    validTo: new Date(validTo).toISOString(),
    daysLeft: Math.round(daysLeft * 10) / 10,
    protocol,
    cipher: socket.getCipher()?.name,
    chain: chainNames(cert),
    authorized: socket.authorized,
  };
  const extra = { phases, details };
  const when = `${daysLeft.toFixed(1)} days (${details.validTo})`;
  if (daysLeft < 0) return down(`certificate expired ${(-daysLeft).toFixed(1)} days ago (${details.validTo})`, latencyMs, extra);
  if (now < Date.parse(cert.valid_from)) return down(`certificate is not valid before ${details.validFrom}`, latencyMs, extra);
  const code = String(socket.authorizationError ?? 'unknown');
  // A name mismatch is reported by Node as an authorization error too; it gets its own words below.
  if (cfg.verify && !socket.authorized && code !== 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return down(`certificate chain not valid: ${certificateWords(code)} (${code})`, latencyMs, extra);
  }
  if (cfg.verify) {
    const mismatch = tls.checkServerIdentity(name, cert);
    if (mismatch) return down(`certificate does not match ${name}: ${mismatch.message.replace(/^Hostname\/IP does not match certificate's altnames: /, '')}`, latencyMs, extra);
  }
  if (daysLeft < cfg.expiry.criticalDays) return down(`certificate expires in ${when}, under the critical ${cfg.expiry.criticalDays} days`, latencyMs, extra);
  if (VERSIONS.indexOf(protocol as (typeof VERSIONS)[number]) < VERSIONS.indexOf(cfg.minVersion)) {
    return down(`protocol ${protocol} is older than the minimum ${cfg.minVersion}`, latencyMs, extra);
  }
  if (daysLeft < cfg.expiry.warningDays) return up(latencyMs, { ...extra, warning: `certificate expires in ${when}, under the warning ${cfg.expiry.warningDays} days` });
  return up(latencyMs, extra);
}

function runTls(cfg: TlsCheckConfig, ctx: CheckContext): Promise<CheckResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const marks: PhaseMarks = {};
    let stage: Stage = isIP(cfg.host) ? 'connect' : 'dns';
    let done = false;
    const phases = (): NonNullable<CheckResult['phases']> => phasesOf(t0, marks);
    const finish = (r: CheckResult): void => {
      if (done) return;
      done = true;
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = (): void => finish(down(describeTimeout(performance.now() - t0, stage), performance.now() - t0, { phases: phases() }));
    const servername = cfg.servername ?? (isIP(cfg.host) ? undefined : cfg.host);
    const options: tls.ConnectionOptions = { host: cfg.host, port: cfg.port, rejectUnauthorized: false }; // judged below, in words
    if (servername) options.servername = servername;
    if (cfg.ca) options.ca = cfg.ca;
    const socket = tls.connect(options);
    socket.once('lookup', () => {
      marks.lookup = performance.now();
      stage = 'connect';
    });
    socket.once('connect', () => {
      marks.connect = performance.now();
      stage = 'tls';
    });
    socket.once('secureConnect', () => {
      marks.secure = performance.now();
      const latency = marks.secure - t0;
      try {
        finish(judge(cfg, socket, ctx.clock.now(), latency, phases()));
      } catch (err) {
        finish(down(`could not read the certificate: ${err instanceof Error ? err.message : String(err)}`, latency, { phases: phases() }));
      }
    });
    socket.on('error', (err) => finish(down(describeError(err, stage, `${cfg.host}:${cfg.port}`), performance.now() - t0, { phases: phases() })));
    socket.once('close', () => finish(down(`connection closed by ${cfg.host}:${cfg.port} during ${stage === 'tls' ? 'TLS handshake' : stage}`, performance.now() - t0, { phases: phases() })));
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `tls` check type. */
export const tlsCheck: CheckType<TlsCheckConfig> = { name: 'tls', schema: tlsCheckSchema, run: runTls };
