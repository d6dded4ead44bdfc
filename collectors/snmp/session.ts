import snmp, { type Session, type Varbind } from 'net-snmp';
import type { DeviceSnmp } from '../../core/index.ts';
import { compareOids, isUnder, readVarbind, usmUser, type SnmpValue } from '../snmp-common/index.ts';

/** Telegraf's SNMP defaults, stated once: timeout 5 s, 3 retries, 10 repetitions per GETBULK (we ask for more, rows are small). */
export const SNMP_DEFAULTS = { timeoutMs: 5000, retries: 3, maxRepetitions: 25, maxRows: 10_000 } as const;

export interface ClientOptions {
  timeoutMs?: number;
  retries?: number;
  maxRepetitions?: number;
  /** A table with more rows than this is cut there, with a warning: an agent must not make us walk forever. */
  maxRows?: number;
}

/** One table column read by a walk: instance index (the OID suffix) -> value. */
export type Column = Map<string, SnmpValue>;

export interface WalkResult {
  columns: Map<string, Column>;
  /** Why a walk stopped early (row cap, agent going backwards), for the log. */
  warnings: string[];
}

/** An SNMP client for one device: promise-returning GET and multi-column table walks over GETBULK (RFC 3416 §4.2.3). */
export class SnmpClient {
  private readonly session: Session;
  private readonly maxRepetitions: number;
  private readonly maxRows: number;
  readonly version: DeviceSnmp['version'];
  private closed = false;

  constructor(target: Pick<DeviceSnmp, 'host' | 'port' | 'version' | 'community' | 'v3'>, options: ClientOptions = {}) {
    const sessionOptions = {
      port: target.port ?? 161,
      timeout: options.timeoutMs ?? SNMP_DEFAULTS.timeoutMs,
      retries: options.retries ?? SNMP_DEFAULTS.retries,
      transport: target.host.includes(':') ? ('udp6' as const) : ('udp4' as const),
      idBitsSize: 32 as const,
    };
    this.version = target.version ?? '2c';
    this.maxRepetitions = options.maxRepetitions ?? SNMP_DEFAULTS.maxRepetitions;
    this.maxRows = options.maxRows ?? SNMP_DEFAULTS.maxRows;
    if (this.version === '3') {
      const v3 = target.v3;
      if (!v3) throw new Error('SNMPv3 needs a v3 block {user, authKey, ...}');
      this.session = snmp.createV3Session(target.host, usmUser(v3), sessionOptions);
    } else {
      this.session = snmp.createSession(target.host, target.community ?? 'public', {
        ...sessionOptions,
        version: this.version === '1' ? snmp.Version1 : snmp.Version2c,
      });
    }
    // A socket error must not escape as an uncaught exception; requests in flight fail with it.
    this.session.on('error', () => undefined);
  }

  /** GETs scalars; an OID the agent lacks comes back absent from the map. */
  async get(oids: string[]): Promise<Map<string, SnmpValue>> {
    const out = new Map<string, SnmpValue>();
    for (const vb of await this.getVarbinds(oids)) {
      const v = readVarbind(vb);
      if (v.kind !== 'none') out.set(vb.oid, v);
    }
    return out;
  }

  /** GETs the varbinds as they came, exceptions (noSuchObject, noSuchInstance; RFC 3416 §4.2.1) included. */
  getVarbinds(oids: string[]): Promise<Varbind[]> {
    return new Promise((resolve, reject) => {
      this.session.get(oids, (err, varbinds) => (err ? reject(err) : resolve(varbinds ?? [])));
    });
  }

  /**
   * Walks table columns side by side with GETBULK (GETNEXT for v1), stopping each column at the end of
   * its subtree or endOfMibView (unlike net-snmp's `walk`), and at `maxRows`.
   */
  async walk(columnOids: string[]): Promise<WalkResult> {
    const columns = new Map<string, Column>(columnOids.map((c) => [c, new Map()]));
    const warnings: string[] = [];
    let pending = columnOids.map((root) => ({ root, at: root }));
    while (pending.length > 0) {
      const rows = await this.next(pending.map((p) => p.at), pending.length);
      const still: typeof pending = [];
      pending.forEach((p, i) => {
        const col = columns.get(p.root) as Column;
        let done = false;
        for (const vb of rows[i] ?? []) {
          if (done) break;
          if (vb.type === snmp.ObjectType.EndOfMibView || !isUnder(vb.oid, p.root)) {
            done = true;
            break;
          }
          // RFC 3416 §4.2.2: every answer must follow the request; an agent that goes backwards would loop forever.
          if (compareOids(vb.oid, p.at) <= 0) {
            warnings.push(`${p.root}: agent answered ${vb.oid} after ${p.at} (not increasing); column cut`);
            done = true;
            break;
          }
          p.at = vb.oid;
          col.set(vb.oid.slice(p.root.length + 1), readVarbind(vb));
          if (col.size >= this.maxRows) {
            warnings.push(`${p.root}: more than ${this.maxRows} rows; table cut`);
            done = true;
          }
        }
        if ((rows[i]?.length ?? 0) === 0) done = true;
        if (!done) still.push(p);
      });
      pending = still;
    }
    return { columns, warnings };
  }

  private next(oids: string[], width: number): Promise<Varbind[][]> {
    return new Promise((resolve, reject) => {
      if (this.version === '1') {
        this.session.getNext(oids, (err, varbinds) => {
          // RFC 1157 §4.1.3: a v1 agent answers noSuchName past the end of its MIB; that ends the walk.
          if (err && /nosuchname/i.test(err.message)) return resolve(oids.map(() => []));
          if (err) return reject(err);
          resolve((varbinds ?? []).map((vb) => [vb]));
        });
        return;
      }
      const reps = Math.max(1, Math.floor((this.maxRepetitions * 4) / width));
      this.session.getBulk(oids, 0, Math.min(reps, this.maxRepetitions), (err, varbinds) => {
        if (err) return reject(err);
        resolve((varbinds ?? []).map((v) => (Array.isArray(v) ? v : [v])));
      });
    });
  }

  /** Retries per request from now on: a device already down is probed once per poll, not retried (it would hold a slot). */
  setRetries(n: number): void {
    (this.session as unknown as { retries: number }).retries = n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.session.close();
    } catch {
      // already closed by a socket error
    }
  }
}
