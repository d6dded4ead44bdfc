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
      const c = spawn(cmd, args(), { stdio: ['ignore', 'ignore', 'pipe'] });
      child = c;
      let said = '';
      c.stderr?.on('data', (d: Buffer) => (said = (said + d.toString()).slice(-2000)));
      c.once('error', (err) => (said += ` ${err.message}`));
      // A server that exits (a port taken meanwhile, a bad flag) fails now with its own words, not after the wait.
      await eventually(async () => {
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${cmd} exited (${c.exitCode ?? c.signalCode}) before it answered: ${said.trim().slice(-500)}`);
        return up(`${url}${readyPath}`);
      }, 30_000, 100).catch(async (err: Error) => {
        await server.stop();
        throw new Error(`${cmd} on port ${port}: ${err.message}${said ? `; it said: ${said.trim().slice(-500)}` : ''}`);
      });
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
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

/**
 * Starts a server on free ports, again on other ports when it cannot: a port read free can be taken by
 * another suite's process before the server binds it (the suites run side by side).
 */
async function onFreePorts(make: (ports: number[]) => ServerProcess, count: number): Promise<ServerProcess> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = await freePorts(count);
    const s = make(ports);
    try {
      await s.start();
      return s;
    } catch (err) {
      last = err;
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
  throw last;
}

/** `count` distinct free loopback ports (held open together, so none is handed out twice). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** Debian's victoria-metrics: accepts InfluxDB line protocol on /api/v2/write, exports on /api/v1/export. */
export function victoriaMetrics(): Promise<ServerProcess> {
  return onFreePorts(([port = 0]) => {
    const dir = mkdtempSync(join(tmpdir(), 'wf-vm-'));
    return managed('victoria-metrics', () => [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR', '-search.latencyOffset=0s'], port, dir, '/health');
  }, 1);
}

/** Debian's influxdb 1.x (influxd) with its HTTP API on loopback and a database `watchfloor`. */
export async function influxdb1(): Promise<ServerProcess> {
  const s = await onFreePorts(([port = 0, rpc = 0]) => {
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
    return managed('influxd', () => ['-config', config], port, dir, '/ping');
  }, 2);
  const r = await fetch(`${s.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'CREATE DATABASE watchfloor' }) });
  if (r.status !== 200) throw new Error(`influxd: CREATE DATABASE answered ${r.status}`);
  return s;
}
