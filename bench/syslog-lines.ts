// The syslog stream of bench/syslog.ts: the real reference logs and the network fixture replayed
// with fresh timestamps, and the simulated attacker's lines, as senders would write them.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ATTACKS, attackLines } from '../simulators/attacker/index.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** RFC 3164 `Mmm dd hh:mm:ss` (UTC, day space-padded). */
export function bsdTime(ts: number): string {
  const d = new Date(ts);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const read = (url: URL): string[] => readFileSync(fileURLToPath(url), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
const LINUX = read(new URL('../../shared/reference/logs/linux-syslog-2k.log', import.meta.url));
const APACHE = read(new URL('../../shared/reference/logs/apache-error-2k.log', import.meta.url));
const NETWORK = read(new URL('../test/fixtures/sigma/network.log', import.meta.url));

/** `<PRI>` by program, as the sender's syslog.conf would file it (RFC 5424 §6.2.1). */
function linuxPri(program: string): number {
  if (/^(sshd|su|sudo|login|passwd|useradd|groupadd)/.test(program)) return 10 * 8 + 5; // authpriv.notice
  if (program.startsWith('kernel')) return 0 * 8 + 6;
  return 3 * 8 + 6; // daemon.info
}
const APACHE_SEVERITY: Record<string, number> = { emerg: 0, alert: 1, crit: 2, error: 3, warn: 4, notice: 5, info: 6, debug: 7 };

/** The Linux reference line with today's time and a PRI (the log has neither). */
function linuxLine(raw: string, ts: number): string {
  const rest = raw.slice(16); // `Jun 14 15:16:01 `
  const program = rest.slice(rest.indexOf(' ') + 1);
  return `<${linuxPri(program)}>${bsdTime(ts)} ${rest.trimEnd()}`;
}

/** The Apache error log line as httpd's `ErrorLog syslog:local7` sends it. */
function apacheLine(raw: string, ts: number): string {
  const m = /^\[[^\]]+\] \[(\w+)\] (.*)$/.exec(raw);
  const level = m?.[1] ?? 'notice';
  return `<${23 * 8 + (APACHE_SEVERITY[level] ?? 5)}>${bsdTime(ts)} web-1 httpd[2211]: [${level}] ${m?.[2] ?? raw}`;
}

/** The network fixture (Cisco IOS, FortiGate, Linux) with its timestamps replaced by `ts`. */
function networkLine(raw: string, ts: number): string {
  const d = new Date(ts);
  const iso = d.toISOString();
  return raw
    .replace(/[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(\.\d{3})?/, (m, ms?: string) => `${bsdTime(ts)}${ms ? `.${pad(d.getUTCMilliseconds(), 3)}` : ''}`)
    .replace(/date=\d{4}-\d\d-\d\d time=\d\d:\d\d:\d\d/, `date=${iso.slice(0, 10)} time=${iso.slice(11, 19)}`);
}

/**
 * One cycle of the stream: the 2,000 Linux lines, the 2,000 Apache lines, the 12 network lines and
 * the four attacks of the simulated attacker (seeded by `cycle`, so each cycle's attackers differ),
 * interleaved, all stamped near `now`.
 */
export function streamCycle(now: number, cycle: number): string[] {
  const out: string[] = [];
  const attacks = ATTACKS.flatMap((name, k) => attackLines(name, { start: now, seed: cycle * 16 + k }).map((l) => l.line));
  const n = Math.max(LINUX.length, APACHE.length);
  for (let i = 0; i < n; i++) {
    const ts = now + i;
    if (i < LINUX.length) out.push(linuxLine(LINUX[i] as string, ts));
    if (i < APACHE.length) out.push(apacheLine(APACHE[i] as string, ts));
    if (i % 160 === 0 && i / 160 < NETWORK.length) out.push(networkLine(NETWORK[i / 160] as string, ts));
    if (i % 25 === 0 && attacks.length > 0) out.push(attacks.shift() as string);
  }
  out.push(...attacks);
  return out;
}

/** `cycles` cycles of the stream, as UTF-8 lines. */
export function streamLines(cycles: number, now = Date.now()): string[] {
  const out: string[] = [];
  for (let c = 0; c < cycles; c++) out.push(...streamCycle(now, c));
  return out;
}

/** RFC 6587 §3.4.1 octet counting: `LEN SP MSG`. */
export const octetFrame = (line: string): Buffer => {
  const b = Buffer.from(line, 'utf8');
  return Buffer.concat([Buffer.from(`${b.length} `), b]);
};

/** A probe that fires the built-in Cisco configuration-change rule, from a host not seen before. */
export function probeLine(n: number, ts: number): string {
  return `<189>probe-sw-${n}: ${n}: ${bsdTime(ts)}.${pad(new Date(ts).getUTCMilliseconds(), 3)}: %SYS-5-CONFIG_I: Configured from console by netadmin on vty0 (10.20.0.${1 + (n % 250)})`;
}
