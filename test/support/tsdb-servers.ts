import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './net.ts';

/** A free loopback port (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function up(url: string): Promise<true | undefined> {
  try {
    const r = await fetch(url);
    return r.status < 500 ? true : undefined;
  } catch {
    return undefined;
  }
}

/** A server process started on loopback over a temp dir; stop() ends it and waits for its exit. */
export interface ServerProcess {
  url: string;
  port: number;
  dir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** stop() and remove its data. */
  destroy(): Promise<void>;
}

function managed(cmd: string, args: () => string[], port: number, dir: string, readyPath: string): ServerProcess {
  let child: ChildProcess | undefined;
  const url = `http://127.0.0.1:${port}`;
  const server: ServerProcess = {
    url,
    port,
    dir,
    async start() {
      child = spawn(cmd, args(), { stdio: 'ignore' });
      child.once('error', () => undefined);
      await eventually(() => up(`${url}${readyPath}`), 30_000, 100);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      const killer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/** Debian's victoria-metrics: accepts InfluxDB line protocol on /api/v2/write, exports on /api/v1/export. */
export async function victoriaMetrics(): Promise<ServerProcess> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wf-vm-'));
  const s = managed('victoria-metrics', () => [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR', '-search.latencyOffset=0s'], port, dir, '/health');
  await s.start();
  return s;
}

/** Debian's influxdb 1.x (influxd) with its HTTP API on loopback and a database `watchfloor`. */
export async function influxdb1(): Promise<ServerProcess> {
  const port = await freePort();
  const rpc = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wf-influx-'));
  const config = join(dir, 'influxdb.conf');
  writeFileSync(
    config,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
`,
  );
  const s = managed('influxd', () => ['-config', config], port, dir, '/ping');
  await s.start();
  const r = await fetch(`${s.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE watchfloor' }) });
  if (r.status !== 200) throw new Error(`influxd: CREATE DATABASE answered ${r.status}`);
  return s;
}
