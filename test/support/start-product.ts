import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { startWatchfloor, type Watchfloor } from '../../cli/index.ts';
import { freeUdpPort } from '../../collectors/index.ts';
import { Config, silentLogger, type InventoryInput, Inventory, type Clock } from '../../core/index.ts';
import type { RuleDef } from '../../rules/index.ts';

export const ADMIN_PASSWORD = 'admin-pass-for-tests';

/** A small estate: one room, one rack with its four sensor positions, a CRAC. */
export const smallInventory: InventoryInput = {
  sites: [{ id: 'dc1', name: 'Test DC', timezone: 'Asia/Ho_Chi_Minh' }],
  rooms: [{ id: 'room-1', site: 'dc1', name: 'Server room 1', width: 10, depth: 8 }],
  racks: [{ id: 'A01', room: 'room-1', row: 'A', position: 1, x: 2, y: 2, facing: 'south', cooledBy: ['crac-1'] }],
  devices: [
    { id: 'crac-1', kind: 'crac', location: { room: 'room-1', x: 0.5, y: 4 } },
    { id: 's-a01-ft', kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: 'A01', position: 'front-top' } },
    { id: 's-a01-fm', kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: 'A01', position: 'front-middle' } },
    { id: 's-a01-fb', kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: 'A01', position: 'front-bottom' } },
    { id: 's-a01-r', kind: 'sensor', sensorType: 'temperature-humidity', location: { rack: 'A01', position: 'rear' } },
  ],
};

export interface StartedProduct {
  app: Watchfloor;
  dataDir: string;
  base: string;
}

/** Starts the whole product on ephemeral loopback ports over a temp data directory. */
export async function startProduct(options: { inventory?: InventoryInput; rules?: RuleDef[]; dataDir?: string; clock?: Clock } = {}): Promise<StartedProduct> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'wf-product-'));
  // net-snmp reads UDP port 0 as "the default port", so the trap receiver gets a free one found here.
  const trapPort = await freeUdpPort();
  const config = Config.parse({ dataDir, http: { host: '127.0.0.1', port: 0 }, mqtt: { host: '127.0.0.1', port: 0 }, snmp: { trapPort }, store: { flushIntervalMs: 50 } });
  const app = await startWatchfloor({
    config,
    inventory: Inventory.parse(options.inventory ?? smallInventory),
    rules: options.rules,
    logger: silentLogger,
    adminPassword: ADMIN_PASSWORD,
    clock: options.clock,
  });
  return { app, dataDir, base: `http://127.0.0.1:${app.httpPort}` };
}

export interface LoggedIn {
  cookie: string;
  csrfToken: string;
}

/** Logs in over HTTP and returns the session cookie and CSRF token. */
export async function login(base: string, username = 'admin', password = ADMIN_PASSWORD): Promise<LoggedIn> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const body = (await res.json()) as { csrfToken: string };
  return { cookie, csrfToken: body.csrfToken };
}

/** A JSON request with the session; state changes carry the CSRF token. */
export async function api(base: string, session: LoggedIn | undefined, path: string, init: { method?: string; body?: unknown; csrf?: boolean } = {}): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (session) headers.cookie = session.cookie;
  if (session && init.csrf !== false && init.method && init.method !== 'GET') headers['x-csrf-token'] = session.csrfToken;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body };
}

/** A socket.io client logged in with the session cookie; resolves once connected. */
export function connectSocket(base: string, session: LoggedIn): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(base, { transports: ['websocket'], extraHeaders: { cookie: session.cookie }, reconnection: false });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}
