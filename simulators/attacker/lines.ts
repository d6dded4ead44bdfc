/**
 * What an attack on the sample estate looks like in its logs: the syslog lines that servers,
 * switches and firewalls of the sample data center would send while it happens. Pure functions of
 * (time, seed): the same inputs give the same lines, so a test can replay an attack exactly.
 *
 * The formats are the senders' own: OpenSSH through rsyslog (RFC 3164), Cisco IOS with its
 * `%FACILITY-SEVERITY-MNEMONIC`, FortiGate's key="value" traffic log. Host names are inventory ids,
 * so the SOC sees which device of the floor plan the attack is on.
 */

/** One attack the simulator plays (each fires one or more rules of the built-in Sigma pack). */
export const ATTACKS = ['ssh_brute_force', 'ssh_spray', 'port_scan', 'night_config_change'] as const;
export type AttackName = (typeof ATTACKS)[number];

/** One line to send, and when (ms since the epoch) relative to the attack's start. */
export interface AttackLine {
  at: number;
  line: string;
}

/** Documentation ranges (RFC 5737): attackers that are clearly not real addresses. */
const ATTACKER_NETS = ['203.0.113', '198.51.100', '192.0.2'];
const USERS = ['root', 'admin', 'oracle', 'test', 'ubuntu', 'postgres', 'git', 'support'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A small deterministic generator (mulberry32): attacks differ run to run by seed, not by Math.random. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const attackerIp = (rnd: () => number): string => `${pick(rnd, ATTACKER_NETS)}.${1 + Math.floor(rnd() * 253)}`;

/** RFC 3164 timestamp, `Mmm dd hh:mm:ss` with the day space-padded, in UTC. */
function bsdTime(ts: number): string {
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `<PRI>` of facility and severity codes (RFC 5424 §6.2.1). */
const pri = (facility: number, severity: number): string => `<${facility * 8 + severity}>`;
const AUTHPRIV = 10;
const LOCAL7 = 23;
const KERN = 0;

function sshFailure(ts: number, host: string, pid: number, user: string, ip: string, port: number): string {
  const invalid = user === 'root' ? '' : 'invalid user ';
  return `${pri(AUTHPRIV, 6)}${bsdTime(ts)} ${host} sshd[${pid}]: Failed password for ${invalid}${user} from ${ip} port ${port} ssh2`;
}

export interface AttackOptions {
  /** When the attack starts, ms since the epoch. */
  start: number;
  seed: number;
  /** Servers the ssh attacks aim at (inventory ids); the sample's e-government VMs by default. */
  servers?: readonly string[];
  /** The firewall that sees the port scan. */
  firewall?: string;
  /** The switch whose configuration is changed. */
  switch?: string;
}

const DEFAULT_SERVERS = ['vm-egov-portal-1', 'vm-public-services', 'vm-mail'];

/**
 * The lines of one attack, in time order:
 * - `ssh_brute_force`: eight failed passwords from one source in 40 s, then that source logs in
 *   (fires the brute force, and success-after-brute-force).
 * - `ssh_spray`: one or two failures each from six sources against one server in three minutes.
 * - `port_scan`: sixty denied connections from one source to successive ports within 30 s on the firewall.
 * - `night_config_change`: a Cisco `%SYS-5-CONFIG_I` from a vty, as someone reconfigures a switch.
 */
export function attackLines(name: AttackName, opts: AttackOptions): AttackLine[] {
  const rnd = seededRandom(opts.seed);
  const servers = opts.servers ?? DEFAULT_SERVERS;
  const server = pick(rnd, servers);
  const out: AttackLine[] = [];
  const { start } = opts;
  switch (name) {
    case 'ssh_brute_force': {
      const ip = attackerIp(rnd);
      let pid = 20_000 + Math.floor(rnd() * 9_000);
      for (let i = 0; i < 8; i++) {
        const at = start + i * 5_000;
        out.push({ at, line: sshFailure(at, server, pid++, pick(rnd, USERS), ip, 40_000 + Math.floor(rnd() * 20_000)) });
      }
      const at = start + 45_000;
      out.push({ at, line: `${pri(AUTHPRIV, 6)}${bsdTime(at)} ${server} sshd[${pid}]: Accepted password for root from ${ip} port ${40_000 + Math.floor(rnd() * 20_000)} ssh2` });
      break;
    }
    case 'ssh_spray': {
      for (let s = 0; s < 6; s++) {
        const ip = attackerIp(rnd);
        const tries = 1 + Math.floor(rnd() * 2);
        for (let i = 0; i < tries; i++) {
          const at = start + s * 30_000 + i * 2_000;
          out.push({ at, line: sshFailure(at, server, 30_000 + s * 10 + i, pick(rnd, USERS), ip, 40_000 + Math.floor(rnd() * 20_000)) });
        }
      }
      break;
    }
    case 'port_scan': {
      const ip = attackerIp(rnd);
      const fw = opts.firewall ?? 'fw-1';
      const base = 1 + Math.floor(rnd() * 1_000);
      for (let i = 0; i < 60; i++) {
        const at = start + i * 500;
        const d = new Date(at).toISOString();
        out.push({
          at,
          line:
            `${pri(LOCAL7, 4)}date=${d.slice(0, 10)} time=${d.slice(11, 19)} devname="${fw}" devid="FG100FTK22000001" logid="0000000013" type="traffic" subtype="forward" level="warning" ` +
            `srcip=${ip} srcport=${50_000 + i} srcintf="wan1" dstip=10.20.1.10 dstport=${base + i} dstintf="dmz" proto=6 action="deny" policyid=0 service="tcp/${base + i}" msg="Denied by forward policy check"`,
        });
      }
      break;
    }
    case 'night_config_change': {
      const sw = opts.switch ?? 'core-sw-1';
      const admin = attackerIp(rnd).replace(/^\d+\.\d+\.\d+/, '10.20.0');
      out.push({ at: start, line: `${pri(LOCAL7, 5)}${sw}: ${100 + Math.floor(rnd() * 800)}: ${bsdTime(start)}.000: %SYS-5-CONFIG_I: Configured from console by netadmin on vty0 (${admin})` });
      break;
    }
  }
  return out;
}

/**
 * The ordinary chatter of a healthy estate between attacks: cron, systemd, a successful key login,
 * a link that stays up. None of it may fire a rule of the built-in pack (test/attacker.test.ts).
 */
export function backgroundLines(start: number, count: number, seed: number, servers: readonly string[] = DEFAULT_SERVERS): AttackLine[] {
  const rnd = seededRandom(seed);
  const out: AttackLine[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * 1_000;
    const host = pick(rnd, servers);
    const pid = 1_000 + Math.floor(rnd() * 30_000);
    const templates = [
      `${pri(9, 6)}${bsdTime(at)} ${host} CRON[${pid}]: (root) CMD (/usr/lib/sysstat/debian-sa1 1 1)`,
      `${pri(3, 6)}${bsdTime(at)} ${host} systemd[1]: Started session-${pid}.scope - Session ${pid} of User deploy.`,
      `${pri(KERN, 6)}${bsdTime(at)} ${host} kernel: [${(pid / 3).toFixed(6)}] eth0: renamed from veth${pid.toString(16)}`,
      `${pri(3, 6)}${bsdTime(at)} ${host} nginx[${pid}]: 10.20.1.${1 + (pid % 200)} - - "GET /dich-vu-cong HTTP/1.1" 200 5120`,
    ];
    out.push({ at, line: pick(rnd, templates) });
  }
  return out;
}
