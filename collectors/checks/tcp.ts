/**
 * `tcp` check: the port accepts a connection; optionally send a line and expect a banner
 * (an SMTP "220", an SSH "SSH-2.0-"), read up to 4 KiB and no more.
 */
import { connect, isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { compileSafeRegex } from '../../core/index.ts';
import { checkBase, down, host, port, phasesOf, safeRegex, up, type PhaseMarks, type CheckContext, type CheckResult, type CheckType } from './check.ts';
import { describeError, describeTimeout, type Stage } from './reasons.ts';

const MAX_BANNER_BYTES = 4096;

export const tcpCheckSchema = checkBase.extend({
  type: z.literal('tcp'),
  host,
  port,
  /** Written once connected, before the banner is read (e.g. "QUIT\r\n" or a protocol hello). */
  send: z.string().max(4096).optional(),
  expect: z
    .object({
      banner: z.string().min(1).max(1024).optional(),
      bannerRegex: safeRegex.optional(),
    })
    .prefault({}),
});
export type TcpCheckConfig = z.infer<typeof tcpCheckSchema>;

function runTcp(cfg: TcpCheckConfig, ctx: CheckContext): Promise<CheckResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const target = `${cfg.host}:${cfg.port}`;
    const marks: PhaseMarks = {};
    const re = cfg.expect.bannerRegex !== undefined ? compileSafeRegex(cfg.expect.bannerRegex) : undefined;
    const wantsBanner = cfg.expect.banner !== undefined || re !== undefined;
    let stage: Stage = isIP(cfg.host) ? 'connect' : 'dns';
    let banner = '';
    let bytes = 0;
    let done = false;
    const phases = (): NonNullable<CheckResult['phases']> => phasesOf(t0, marks);
    const finish = (r: CheckResult): void => {
      if (done) return;
      done = true;
      ctx.signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const elapsed = (): number => performance.now() - t0;
    const matches = (): boolean => (cfg.expect.banner === undefined || banner.includes(cfg.expect.banner)) && (re === undefined || re.test(banner));
    const mismatch = (): CheckResult => {
      const seen = banner.length > 0 ? `got ${JSON.stringify(banner.slice(0, 120))}` : 'got nothing';
      const wanted = cfg.expect.banner !== undefined ? JSON.stringify(cfg.expect.banner) : `/${cfg.expect.bannerRegex}/`;
      return down(`banner does not match ${wanted}: ${seen}`, elapsed(), { phases: phases(), details: { banner: banner.slice(0, 512) } });
    };
    const onAbort = (): void => finish(stage === 'banner' && banner.length > 0 ? mismatch() : down(describeTimeout(elapsed(), stage), elapsed(), { phases: phases() }));
    const socket = connect({ host: cfg.host, port: cfg.port });
    socket.once('lookup', () => {
      marks.lookup = performance.now();
      stage = 'connect';
    });
    socket.once('connect', () => {
      marks.connect = performance.now();
      if (!wantsBanner) return finish(up(marks.connect - t0, { phases: phases() }));
      stage = 'banner';
      if (cfg.send !== undefined) socket.write(cfg.send);
    });
    socket.on('data', (chunk: Buffer) => {
      marks.response ??= performance.now();
      const room = MAX_BANNER_BYTES - bytes;
      banner += chunk.subarray(0, Math.max(0, room)).toString('utf8');
      bytes += chunk.length;
      if (matches()) return finish(up(elapsed(), { phases: phases(), details: { banner: banner.slice(0, 512) } }));
      if (bytes >= MAX_BANNER_BYTES) finish(mismatch());
    });
    socket.on('error', (err) => finish(down(describeError(err, stage, target), elapsed(), { phases: phases() })));
    socket.once('close', () => finish(stage === 'banner' ? mismatch() : down(`connection closed by ${target}`, elapsed(), { phases: phases() })));
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `tcp` check type. */
export const tcpCheck: CheckType<TcpCheckConfig> = { name: 'tcp', schema: tcpCheckSchema, run: runTcp };
