/**
 * `dns` check: one query of a record type against a named resolver (node:dns Resolver with
 * setServers, so the answer comes from that server and not the host's resolv.conf), compared with
 * the expected answers.
 */
import { Resolver } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { checkBase, down, up, type CheckContext, type CheckResult, type CheckType } from './check.ts';

const RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT', 'CAA'] as const;
type RecordType = (typeof RECORD_TYPES)[number];

// "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353": what Resolver.setServers takes.
const SERVER = /^(?:\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?|[0-9A-Fa-f:]+|\[[0-9A-Fa-f:]+\]:\d{1,5})$/;

export const dnsCheckSchema = checkBase.extend({
  type: z.literal('dns'),
  /** The name to ask about. */
  name: z.string().min(1).max(253).regex(/^[A-Za-z0-9_.*-]+\.?$/, 'expected a DNS name'),
  recordType: z.enum(RECORD_TYPES).default('A'),
  /** The resolver to ask, an IP address with an optional port; the system's resolvers when absent. */
  server: z.string().regex(SERVER, 'expected a resolver address such as 10.0.0.53 or 10.0.0.53:5353').optional(),
  expect: z
    .object({
      /** Every one of these must be in the answer (values as the `answers` detail prints them). */
      answers: z.array(z.string().min(1).max(1024)).min(1).optional(),
      /** The answer holds exactly the expected answers and nothing else. */
      exact: z.boolean().default(false),
    })
    .prefault({}),
});
export type DnsCheckConfig = z.infer<typeof dnsCheckSchema>;

/** Each record in one line of text, so expectations are plain strings ("10 mail.example"). */
async function query(resolver: Resolver, name: string, type: RecordType): Promise<string[]> {
  switch (type) {
    case 'A':
      return resolver.resolve4(name);
    case 'AAAA':
      return resolver.resolve6(name);
    case 'CNAME':
      return resolver.resolveCname(name);
    case 'NS':
      return resolver.resolveNs(name);
    case 'PTR':
      return resolver.resolvePtr(name);
    case 'MX':
      return (await resolver.resolveMx(name)).map((r) => `${r.priority} ${r.exchange}`);
    case 'TXT':
      return (await resolver.resolveTxt(name)).map((parts) => parts.join(''));
    case 'SRV':
      return (await resolver.resolveSrv(name)).map((r) => `${r.priority} ${r.weight} ${r.port} ${r.name}`);
    case 'SOA': {
      const r = await resolver.resolveSoa(name);
      return [`${r.nsname} ${r.hostmaster} ${r.serial}`];
    }
    case 'CAA':
      return (await resolver.resolveCaa(name)).map((r) => `${r.critical} ${Object.entries(r).find(([k]) => k !== 'critical')?.join(' ') ?? ''}`);
  }
}

// c-ares status codes as node:dns reports them (err.code), in words.
const DNS_WORDS: Record<string, string> = {
  ENOTFOUND: 'name does not exist (NXDOMAIN)',
  ENODATA: 'no record of that type',
  ESERVFAIL: 'server failure (SERVFAIL)',
  EREFUSED: 'query refused',
  ETIMEOUT: 'no answer from the resolver',
  ECONNREFUSED: 'resolver refused the connection',
  EBADRESP: 'malformed answer',
  ECANCELLED: 'query cancelled',
};

async function runDns(cfg: DnsCheckConfig, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const timeoutMs = Math.round(cfg.timeoutSeconds * 1000);
  // tries: 1; the scheduler's retries are the retries. The timeout is the resolver's own too, so a
  // silent server ends the query inside c-ares instead of leaving it behind.
  const resolver = new Resolver({ timeout: timeoutMs, tries: 1 });
  if (cfg.server) resolver.setServers([cfg.server]);
  const onAbort = (): void => resolver.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const via = cfg.server ? ` from ${cfg.server}` : '';
  try {
    const answers = await query(resolver, cfg.name, cfg.recordType);
    const latency = performance.now() - t0;
    const details = { answers, server: cfg.server ?? 'system', recordType: cfg.recordType };
    const expected = cfg.expect.answers;
    if (expected) {
      const norm = (s: string): string => s.toLowerCase().replace(/\.$/, '');
      const got = new Set(answers.map(norm));
      const missing = expected.filter((a) => !got.has(norm(a)));
      const extra = cfg.expect.exact ? answers.filter((a) => !expected.some((e) => norm(e) === norm(a))) : [];
      if (missing.length > 0 || extra.length > 0) {
        return down(`${cfg.recordType} ${cfg.name}${via} answered ${answers.join(', ') || 'nothing'}, expected ${expected.join(', ')}${cfg.expect.exact ? ' exactly' : ''}`, latency, { details });
      }
    }
    return up(latency, { details });
  } catch (err) {
    const latency = performance.now() - t0;
    if (ctx.signal.aborted) return down(`DNS ${cfg.recordType} ${cfg.name}${via}: timed out after ${Math.round(latency)} ms`, latency);
    const code = (err as NodeJS.ErrnoException).code ?? '';
    return down(`DNS ${cfg.recordType} ${cfg.name}${via}: ${DNS_WORDS[code] ?? (err as Error).message}${code ? ` (${code})` : ''}`, latency);
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

/** The `dns` check type. */
export const dnsCheck: CheckType<DnsCheckConfig> = { name: 'dns', schema: dnsCheckSchema, run: runDns };
