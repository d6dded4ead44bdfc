// Debian's rsyslogd beside Watchfloor in bench/syslog.ts: its own configuration, work directory
// and pid file in a temporary folder (never /etc/rsyslog.conf), imtcp and imudp on loopback,
// everything into one file with omfile; `lines()` counts what the file holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Rsyslog {
  tcpPort: number;
  udpPort: number;
  version: string;
  /** Lines in the output file so far. */
  lines(): number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function startRsyslog(bin = '/usr/sbin/rsyslogd'): Promise<Rsyslog> {
  const dir = mkdtempSync(join(tmpdir(), 'wf-bench-rsyslog-'));
  mkdirSync(join(dir, 'work'));
  const out = join(dir, 'out.log');
  const tcpPort = await freePort();
  const udpPort = await freePort();
  writeFileSync(
    join(dir, 'rsyslog.conf'),
    [
      `global(workDirectory="${dir}/work" maxMessageSize="64k")`,
      'module(load="imtcp" maxSessions="200")',
      `input(type="imtcp" address="127.0.0.1" port="${tcpPort}")`,
      'module(load="imudp")',
      `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
      `action(type="omfile" file="${out}")`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(bin, ['-n', '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'rsyslogd.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // Up when imtcp accepts a connection.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: tcpPort }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`rsyslogd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const version = await new Promise<string>((resolve) => {
    const v = spawn(bin, ['-v']);
    let text = '';
    v.stdout.on('data', (d: Buffer) => (text += d.toString()));
    v.once('close', () => resolve(/rsyslogd\s+(\S+)/.exec(text)?.[1] ?? '?'));
  });
  let counted = 0;
  let offset = 0;
  const buf = Buffer.alloc(1 << 20);
  return {
    tcpPort,
    udpPort,
    version,
    lines() {
      let size: number;
      try {
        size = statSync(out).size;
      } catch {
        return 0;
      }
      if (size <= offset) return counted;
      const fd = openSync(out, 'r');
      try {
        while (offset < size) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
          if (n <= 0) break;
          for (let i = 0; i < n; i++) if (buf[i] === 0x0a) counted++;
          offset += n;
        }
      } finally {
        closeSync(fd);
      }
      return counted;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
