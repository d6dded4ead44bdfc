import type { RemoteInfo } from 'node:dgram';
import snmp, { type Agent, type RequestMessage, type Varbind } from 'net-snmp';
import { freeUdpPort, usmUser } from '../../collectors/index.ts';
import type { DeviceSnmp } from '../../core/index.ts';
import { RecordStore } from './record-store.ts';

const T = snmp.ObjectType;

export interface AgentOptions {
  /** 0 picks a free port. */
  port?: number;
  address?: string;
  community?: string;
  v3?: NonNullable<DeviceSnmp['v3']>;
  /** Faults for tests: answer late, or claim endOfMibView from this OID on (mid-table). */
  faults?: { delayMs?: number; endOfMibViewFrom?: string };
  /** Largest number of varbinds in one GETBULK answer, and a byte budget under the UDP limit (RFC 3416 §4.2.3). */
  maxBulkVarbinds?: number;
}

/** A simulated SNMP agent: net-snmp's agent for transport and security, answering from a RecordStore. */
export interface SimulatedAgent {
  readonly port: number;
  readonly store: RecordStore;
  /** Requests answered so far. */
  readonly requests: number;
  close(): Promise<void>;
}

const MAX_BYTES = 60_000;

/**
 * Starts an agent on UDP (v1, v2c and v3 by net-snmp's listener and USM) whose GET, GETNEXT and
 * GETBULK answer from `store`; SET is refused as notWritable (a recording is read-only).
 */
export async function startAgent(store: RecordStore, o: AgentOptions = {}): Promise<SimulatedAgent> {
  let requests = 0;
  const address = o.address ?? '127.0.0.1';
  const wanted = o.port || (await freeUdpPort(address));
  const agent: Agent = snmp.createAgent({ port: wanted, address, accessControlModelType: 0 }, () => undefined);
  const auth = agent.getAuthorizer();
  auth.addCommunity(o.community ?? 'public');
  if (o.v3) auth.addUser(usmUser(o.v3));
  const eomFrom = o.faults?.endOfMibViewFrom?.split('.').map(Number);
  const pastEom = (oid: string): boolean => {
    if (!eomFrom) return false;
    const a = oid.split('.').map(Number);
    for (let i = 0; i < Math.min(a.length, eomFrom.length); i++) if (a[i] !== eomFrom[i]) return (a[i] as number) > (eomFrom[i] as number);
    return a.length >= eomFrom.length;
  };
  const next = (oid: string): Varbind => {
    const r = store.next(oid);
    if (!r || pastEom(r.oid)) return { oid, type: T.EndOfMibView, value: null };
    return r;
  };
  const answer = (socket: unknown, msg: RequestMessage, rinfo: RemoteInfo, varbinds: Varbind[], v1Error?: { status: number; index: number }): void => {
    requests++;
    const resp = msg.pdu.getResponsePduForRequest() as unknown as { varbinds: Varbind[]; errorStatus?: number; errorIndex?: number };
    resp.varbinds = varbinds;
    if (v1Error) {
      resp.errorStatus = v1Error.status;
      resp.errorIndex = v1Error.index;
      resp.varbinds = msg.pdu.varbinds;
    }
    const send = (): void => {
      try {
        agent.sendResponse(socket, rinfo, msg, resp as unknown as typeof msg.pdu);
      } catch {
        // A value the encoder refuses (a broken record) must not kill the agent; the manager times out.
      }
    };
    if (o.faults?.delayMs) setTimeout(send, o.faults.delayMs).unref();
    else send();
  };
  const isV1 = (msg: RequestMessage): boolean => msg.version === snmp.Version1;

  agent.getRequest = (socket, msg, rinfo) => {
    const out = msg.pdu.varbinds.map((vb): Varbind => store.get(vb.oid) ?? { oid: vb.oid, type: store.next(vb.oid)?.oid.startsWith(`${vb.oid}.`) ? T.NoSuchObject : T.NoSuchInstance, value: null });
    // RFC 1157 §4.1.2: v1 has no exceptions; a missing object is noSuchName(2) at its index.
    const missing = out.findIndex((vb) => vb.type === T.NoSuchObject || vb.type === T.NoSuchInstance);
    answer(socket, msg, rinfo, out, isV1(msg) && missing >= 0 ? { status: 2, index: missing + 1 } : undefined);
  };
  agent.getNextRequest = (socket, msg, rinfo) => {
    const out = msg.pdu.varbinds.map((vb) => next(vb.oid));
    const end = out.findIndex((vb) => vb.type === T.EndOfMibView);
    answer(socket, msg, rinfo, out, isV1(msg) && end >= 0 ? { status: 2, index: end + 1 } : undefined);
  };
  agent.getBulkRequest = (socket, msg, rinfo) => {
    // RFC 3416 §4.2.3: N non-repeaters answered once, then M rows of the R repeaters.
    const req = msg.pdu.varbinds;
    const n = Math.max(0, Math.min(msg.pdu.nonRepeaters, req.length));
    const m = Math.max(0, msg.pdu.maxRepetitions);
    const out: Varbind[] = [];
    let bytes = 0;
    const cap = o.maxBulkVarbinds ?? 1000;
    const push = (vb: Varbind): boolean => {
      bytes += vb.oid.length + 16 + (Buffer.isBuffer(vb.value) ? vb.value.length : String(vb.value ?? '').length);
      if (out.length >= cap || bytes > MAX_BYTES) return false;
      out.push(vb);
      return true;
    };
    for (let i = 0; i < n; i++) if (!push(next((req[i] as Varbind).oid))) break;
    const cursor = req.slice(n).map((vb) => vb.oid);
    rows: for (let r = 0; r < m && cursor.length > 0; r++) {
      let allEnded = true;
      for (let j = 0; j < cursor.length; j++) {
        const vb = next(cursor[j] as string);
        if (vb.type !== T.EndOfMibView) allEnded = false;
        if (!push(vb)) break rows;
        cursor[j] = vb.oid;
      }
      if (allEnded) break;
    }
    answer(socket, msg, rinfo, out);
  };
  agent.setRequest = (socket, msg, rinfo) => {
    // RFC 3416 §4.2.5: notWritable(17) at the first varbind; v1 says readOnly(4).
    answer(socket, msg, rinfo, [], { status: isV1(msg) ? 4 : 17, index: 1 });
  };

  const port = await new Promise<number>((resolve, reject) => {
    const sock = Object.values(agent.listener.sockets)[0];
    if (!sock) return reject(new Error('net-snmp agent has no socket'));
    sock.once('listening', () => resolve(sock.address().port));
    sock.once('error', reject);
  });
  return {
    port,
    store,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((r) => {
      try {
        agent.close(() => r());
      } catch {
        r();
      }
    }),
  };
}
