/**
 * `icmp` check: round-trip time and loss over N echo requests, by Debian's `fping` run as a child
 * process (`fping -C N -q`). Why fping and not raw sockets from Node: an ICMP socket needs root or
 * CAP_NET_RAW for the Node process itself (fping carries that capability on its own binary, or uses
 * the kernel's unprivileged ICMP sockets), and no maintained npm raw-socket library builds here
 * reliably (`raw-socket` and `net-ping` are native add-ons last released years ago). fping is also
 * what Zabbix drives for its own ICMP checks.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { checkBase, down, host, round, up, type CheckContext, type CheckResult, type CheckType } from './check.ts';

export const ICMP_DEFAULTS = { count: 3, periodMs: 200, probeTimeoutMs: 1000, fping: 'fping' } as const;

export const icmpCheckSchema = checkBase.extend({
  type: z.literal('icmp'),
  host,
  /** Echo requests per check. */
  count: z.number().int().min(1).max(100).default(ICMP_DEFAULTS.count),
  /** Time between two requests to the host (fping -p). */
  periodMs: z.number().int().min(10).max(60_000).default(ICMP_DEFAULTS.periodMs),
  /** How long to wait for each reply (fping -t). */
  probeTimeoutMs: z.number().int().min(10).max(60_000).default(ICMP_DEFAULTS.probeTimeoutMs),
  expect: z
    .object({
      /** Down when more than this share of the requests go unanswered; without it, down only when all do. */
      maxLossPercent: z.number().min(0).max(100).optional(),
      /** Down when the mean round trip exceeds this. */
      maxRttMs: z.number().positive().optional(),
    })
    .prefault({}),
});
export type IcmpCheckConfig = z.infer<typeof icmpCheckSchema>;

/** One host's summary from `fping -C N -q`: a round trip per request, undefined where none came back. */
export interface FpingHost {
  host: string;
  rtts: Array<number | undefined>;
  sent: number;
  received: number;
  lossPercent: number;
  minMs?: number;
  avgMs?: number;
  maxMs?: number;
}

// `127.0.0.1 : 0.04 0.05 -` (fping -C; "-" is a request that got no reply).
const SUMMARY = /^(\S+)\s+:\s+((?:[\d.]+|-)(?:\s+(?:[\d.]+|-))*)\s*$/;

/** Parses the per-host summary lines fping -C -q writes on stderr; other lines are skipped. */
export function parseFpingSummary(text: string): FpingHost[] {
  const out: FpingHost[] = [];
  for (const line of text.split('\n')) {
    const m = SUMMARY.exec(line.trim());
    if (!m) continue;
    const rtts = (m[2] as string).split(/\s+/).map((v) => (v === '-' ? undefined : Number(v)));
    const got = rtts.filter((v): v is number => v !== undefined);
    const h: FpingHost = { host: m[1] as string, rtts, sent: rtts.length, received: got.length, lossPercent: round(((rtts.length - got.length) / rtts.length) * 100) };
    if (got.length > 0) {
      h.minMs = Math.min(...got);
      h.maxMs = Math.max(...got);
      h.avgMs = round(got.reduce((a, b) => a + b, 0) / got.length);
    }
    out.push(h);
  }
  return out;
}

/** Judges one host's summary against the expectations. */
export function judgeFping(cfg: IcmpCheckConfig, h: FpingHost): CheckResult {
  const details = { sent: h.sent, received: h.received, lossPercent: h.lossPercent, minMs: h.minMs, avgMs: h.avgMs, maxMs: h.maxMs, rtts: h.rtts };
  const latency = h.avgMs ?? 0;
  if (h.received === 0) return down(`${cfg.host} unreachable: no reply to ${h.sent} echo requests`, latency, { details });
  const { maxLossPercent, maxRttMs } = cfg.expect;
  if (maxLossPercent !== undefined && h.lossPercent > maxLossPercent) {
    return down(`${h.lossPercent}% packet loss to ${cfg.host} (${h.received}/${h.sent} replies), over the limit of ${maxLossPercent}%`, latency, { details });
  }
  if (maxRttMs !== undefined && latency > maxRttMs) return down(`round trip to ${cfg.host} ${latency} ms, over the limit of ${maxRttMs} ms`, latency, { details });
  return up(latency, { details });
}

/** Runs fping; `binary` is replaceable for tests of a missing or misbehaving fping. */
export function runFping(cfg: IcmpCheckConfig, ctx: CheckContext, binary: string = ICMP_DEFAULTS.fping): Promise<CheckResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let stderr = '';
    let done = false;
    const args = ['-C', String(cfg.count), '-q', '-p', String(cfg.periodMs), '-t', String(cfg.probeTimeoutMs), cfg.host];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const finish = (r: CheckResult): void => {
      if (done) return;
      done = true;
      ctx.signal.removeEventListener('abort', onAbort);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      resolve(r);
    };
    const onAbort = (): void => finish(down(`timed out after ${Math.round(performance.now() - t0)} ms waiting for fping`, performance.now() - t0));
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 65_536) stderr += d.toString('utf8');
    });
    child.once('error', (err: NodeJS.ErrnoException) =>
      finish(down(err.code === 'ENOENT' ? `${binary} is not installed (Debian: apt-get install fping)` : `could not run ${binary}: ${err.message}`, 0)),
    );
    child.once('close', (code) => {
      const h = parseFpingSummary(stderr).find((x) => x.host === cfg.host) ?? parseFpingSummary(stderr)[0];
      if (h) return finish(judgeFping(cfg, h));
      // fping's exit codes: 1 unreachable, 2 address not found, 3 invalid arguments, 4 system call failure.
      const said = stderr.trim().split('\n').pop() ?? '';
      if (code === 2) return finish(down(`${cfg.host} not found: ${said || 'name does not resolve'}`, 0));
      finish(down(`fping exited with code ${code}${said ? `: ${said}` : ''}`, 0));
    });
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `icmp` check type. */
export const icmpCheck: CheckType<IcmpCheckConfig> = { name: 'icmp', schema: icmpCheckSchema, run: (cfg, ctx) => runFping(cfg, ctx) };
