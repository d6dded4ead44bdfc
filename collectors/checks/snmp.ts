/**
 * `snmp` check: one GET (RFC 3416 §4.2.1) of a few OIDs through the poller's own SnmpClient (v1, v2c,
 * v3 with the same USM user builder), default sysUpTime.0, with optional expectations on the values.
 * The scheduler's retries are the retries: the session itself tries once.
 */
import snmp, { type Varbind } from 'net-snmp';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { SnmpClient } from '../snmp/index.ts';
import { asNumber, asText, readVarbind } from '../snmp-common/index.ts';
import { checkBase, down, host, port, up, type CheckContext, type CheckResult, type CheckType } from './check.ts';

/** SNMPv2-MIB::sysUpTime.0, the agent's "I am alive" (RFC 3418). */
export const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';

const oid = z
  .string()
  .regex(/^\.?\d+(\.\d+)+$/, 'expected a numeric OID such as 1.3.6.1.2.1.1.3.0')
  .transform((s) => s.replace(/^\./, ''));
const key = z.string().min(8, 'an SNMPv3 key has at least 8 characters').max(256);

const expectation = z
  .object({
    oid,
    /** The value, as text (an OctetString, or a number in decimal) equals this. */
    equals: z.union([z.string().max(1024), z.number()]).optional(),
    atLeast: z.number().optional(),
    atMost: z.number().optional(),
  })
  .refine((e) => e.equals !== undefined || e.atLeast !== undefined || e.atMost !== undefined, { message: 'say equals, atLeast or atMost', path: ['equals'] })
  .refine((e) => e.atLeast === undefined || e.atMost === undefined || e.atLeast <= e.atMost, { message: 'atLeast must not exceed atMost', path: ['atMost'] });

export const snmpCheckSchema = checkBase
  .extend({
    type: z.literal('snmp'),
    host,
    port: port.default(161),
    version: z.enum(['1', '2c', '3']).default('2c'),
    community: z.string().min(1).max(255).default('public'),
    v3: z
      .object({
        user: z.string().min(1).max(64),
        authProtocol: z.enum(['sha', 'sha256', 'sha512', 'md5']).default('sha'),
        authKey: key,
        privProtocol: z.enum(['aes', 'des', 'none']).default('aes'),
        privKey: key.optional(),
      })
      .optional(),
    /** The OIDs to GET; sysUpTime.0 when neither these nor expectations are given. */
    oids: z.array(oid).min(1).max(32).optional(),
    /** Each expected OID is fetched too. */
    expect: z.array(expectation).max(32).default([]),
  })
  .refine((c) => c.version !== '3' || c.v3 !== undefined, { message: 'SNMPv3 needs a v3 block {user, authKey, ...}', path: ['v3'] });
export type SnmpCheckConfig = z.infer<typeof snmpCheckSchema>;

const T = snmp.ObjectType;

/** What an exception varbind means (RFC 3416 §4.2.1), in words. */
function missingWords(vb: Varbind): string | undefined {
  if (vb.type === T.NoSuchObject) return `agent has no object ${vb.oid} (noSuchObject)`;
  if (vb.type === T.NoSuchInstance) return `agent has no instance ${vb.oid} (noSuchInstance)`;
  if (vb.type === T.EndOfMibView) return `agent has nothing at ${vb.oid} (endOfMibView)`;
  return undefined;
}

/** One request error of net-snmp in words: a timeout, a USM refusal (RFC 3414 §3.2), an error-status. */
function requestWords(err: unknown, cfg: SnmpCheckConfig, waitedMs: number): string {
  const e = err as { name?: string; message?: string; code?: number; status?: number };
  const target = `${cfg.host}:${cfg.port}`;
  if (e?.name === 'RequestTimedOutError') {
    // RFC 3584 §5.2.1 / snmpd: a v1/v2c request with an unknown community is dropped, not answered.
    const why = cfg.version === '3' ? 'agent down, filtered, or the privacy key is wrong' : `agent down, filtered, or community not accepted`;
    return `no SNMP answer from ${target} within ${Math.round(waitedMs)} ms (${why})`;
  }
  if (e?.name === 'ResponseInvalidError' && (e.code === 5 || e.code === 4)) {
    return `SNMPv3 authentication failed for user "${cfg.v3?.user ?? '?'}" at ${target}: ${e.code === 4 ? 'could not decrypt the answer (wrong privacy key?)' : e.message}`;
  }
  if (e?.name === 'RequestFailedError') {
    // RFC 1157 §4.1.2: a v1 agent answers noSuchName for an object it lacks.
    if (/nosuchname/i.test(e.message ?? '')) return `agent has no such object (noSuchName): ${(e.message ?? '').replace(/^NoSuchName:?\s*/i, '') || cfg.oids?.join(', ')}`;
    return `agent refused the GET: ${e.message}`;
  }
  return `SNMP GET failed: ${e?.message ?? String(err)}`;
}

/** Checks one value against its expectation; undefined when it holds. */
function unmet(e: SnmpCheckConfig['expect'][number], vb: Varbind): string | undefined {
  const v = readVarbind(vb);
  const text = asText(v);
  if (e.equals !== undefined) {
    const ok = typeof e.equals === 'number' ? asNumber(v) === e.equals : text === e.equals;
    if (!ok) return `${e.oid} is ${JSON.stringify(text ?? null)}, expected ${JSON.stringify(e.equals)}`;
  }
  if (e.atLeast !== undefined || e.atMost !== undefined) {
    const n = asNumber(v);
    if (n === undefined) return `${e.oid} is ${JSON.stringify(text ?? null)}, not a number`;
    if (e.atLeast !== undefined && n < e.atLeast) return `${e.oid} is ${n}, under the minimum ${e.atLeast}`;
    if (e.atMost !== undefined && n > e.atMost) return `${e.oid} is ${n}, over the maximum ${e.atMost}`;
  }
  return undefined;
}

async function runSnmp(cfg: SnmpCheckConfig, ctx: CheckContext): Promise<CheckResult> {
  const t0 = performance.now();
  const elapsed = (): number => performance.now() - t0;
  const wanted = [...new Set([...(cfg.oids ?? (cfg.expect.length > 0 ? [] : [SYS_UPTIME])), ...cfg.expect.map((e) => e.oid)])];
  const timeoutMs = Math.max(50, Math.round(cfg.timeoutSeconds * 1000));
  let client: SnmpClient;
  try {
    client = new SnmpClient({ host: cfg.host, port: cfg.port, version: cfg.version, community: cfg.community, v3: cfg.v3 }, { timeoutMs, retries: 0 });
  } catch (err) {
    return down(`SNMP session not opened: ${err instanceof Error ? err.message : String(err)}`, elapsed());
  }
  let onAbort = (): void => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const answer = await Promise.race([client.getVarbinds(wanted), aborted]);
    if (answer === 'aborted') return down(`no SNMP answer from ${cfg.host}:${cfg.port} within ${Math.round(elapsed())} ms (timed out)`, elapsed());
    const latency = elapsed();
    const values: Record<string, string | number | null> = {};
    const byOid = new Map(answer.map((vb) => [vb.oid, vb]));
    for (const vb of answer) {
      const v = readVarbind(vb);
      values[vb.oid] = v.kind === 'number' ? v.value : (asText(v) ?? null);
    }
    const details = { values, version: cfg.version };
    for (const o of wanted) {
      const vb = byOid.get(o);
      if (!vb) return down(`agent answered without ${o}`, latency, { details });
      const missing = missingWords(vb);
      if (missing) return down(missing, latency, { details });
    }
    for (const e of cfg.expect) {
      const why = unmet(e, byOid.get(e.oid) as Varbind);
      if (why) return down(why, latency, { details });
    }
    return up(latency, { details });
  } catch (err) {
    return down(requestWords(err, cfg, elapsed()), elapsed());
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    client.close();
  }
}

/** The `snmp` check type. */
export const snmpCheck: CheckType<SnmpCheckConfig> = { name: 'snmp', schema: snmpCheckSchema, run: runSnmp };
