import { afterEach, describe, expect, it } from 'vitest';
import { startSyslogReceiver, parseSyslogLine, type SyslogReceiver } from '../collectors/syslog/index.ts';
import { silentLogger, systemClock, type LogLine } from '../core/index.ts';
import { builtinSigmaPath, compileSigma, readSigmaSources, SigmaEngine } from '../rules/sigma/index.ts';
import { attackLines, backgroundLines, startAttacker, ATTACKS, type Attacker, type AttackName } from '../simulators/attacker/index.ts';

/** The built-in pack's titles that a replay of `lines` raises, as the product would on arrival. */
function titlesFired(lines: { at: number; line: string }[]): string[] {
  const { rules, errors } = compileSigma(readSigmaSources([builtinSigmaPath]));
  expect(errors).toEqual([]);
  const engine = new SigmaEngine(rules);
  const titles = new Set<string>();
  for (const l of lines) {
    const parsed = parseSyslogLine(l.line, { receivedAt: l.at, source: '10.20.1.10' });
    for (const d of engine.onLine(parsed, l.at)) if (d.level !== 'informational' && d.level !== 'low') titles.add(d.title);
  }
  return [...titles].sort();
}

const START = Date.UTC(2026, 11, 1, 23, 10, 0);

describe('the simulated attacker', () => {
  const expected: Record<AttackName, string[]> = {
    ssh_brute_force: ['SSH Brute Force From One Source', 'SSH Login Succeeds After Brute Force From The Same Source', 'Root Login Over SSH'],
    ssh_spray: ['SSH Password Spraying Against One Host'],
    port_scan: ['Firewall Deny Storm From One Source'],
    night_config_change: ['Cisco Configuration Changed'],
  };
  for (const name of ATTACKS) {
    it(`${name} fires the built-in Sigma rules it is meant to`, () => {
      const fired = titlesFired(attackLines(name, { start: START, seed: 7 }));
      for (const t of expected[name]) expect(fired).toContain(t);
    });
  }

  it('the background chatter between attacks fires no rule above low', () => {
    expect(titlesFired(backgroundLines(START, 2_000, 3))).toEqual([]);
  });

  it('names inventory hosts and attacker sources in the lines', () => {
    const parsed: LogLine[] = attackLines('ssh_brute_force', { start: START, seed: 1 }).map((l) => parseSyslogLine(l.line, { receivedAt: l.at, source: '127.0.0.1' }));
    expect(new Set(parsed.map((p) => p.host)).size).toBe(1);
    expect(['vm-egov-portal-1', 'vm-public-services', 'vm-mail']).toContain(parsed[0]?.host);
    expect(parsed.every((p) => p.program === 'sshd')).toBe(true);
  });

  describe('over real sockets', () => {
    let rx: SyslogReceiver | undefined;
    let attacker: Attacker | undefined;
    afterEach(async () => {
      await attacker?.stop();
      await rx?.stop();
    });

    for (const transport of ['tcp', 'udp'] as const) {
      it(`plays an attack to a syslog receiver over ${transport}: every line arrives, parsed`, async () => {
        const got: LogLine[] = [];
        rx = await startSyslogReceiver({ udpPort: 0, tcpPort: 0, host: '127.0.0.1', onLine: (l) => got.push(l), logger: silentLogger, clock: systemClock });
        const port = transport === 'tcp' ? rx.ports.tcp : rx.ports.udp;
        attacker = startAttacker({ port: port as number, transport, firstAfterMs: 3_600_000, backgroundEveryMs: 0, logger: silentLogger });
        // The one-line attack: the longer ones unfold over 30-45 s in real time (their lines are tested above).
        const lines = attackLines('night_config_change', { start: Date.now(), seed: 2 });
        expect(await attacker.play('night_config_change')).toBe(lines.length);
        await expect.poll(() => got.length, { timeout: 5_000 }).toBe(1);
        expect(got[0]?.message).toContain('%SYS-5-CONFIG_I');
        expect(got[0]?.host).toBe('core-sw-1');
      });
    }
  });
});
