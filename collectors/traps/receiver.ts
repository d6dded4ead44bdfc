import snmp, { type Notification, type Receiver } from 'net-snmp';
import { systemClock, type Clock, type Device, type Logger, type SecurityEvent } from '../../core/index.ts';
import type { Accumulator, Collector } from '../registry.ts';
import { bundledMibs, freeUdpPort, usmUser, type MibLookup } from '../snmp-common/index.ts';
import { decodeTrap } from './decode.ts';
import { SecurityEventFlood, type FloodOptions } from './flood.ts';

export interface TrapReceiverOptions {
  /** UDP port; 162 is the standard one (RFC 3413 §4) but needs privileges, so the default is config `snmp.trapPort` (1162). */
  port: number;
  address?: string;
  /** Devices that may send notifications: matched by `snmp.host`, their community and v3 user are accepted. */
  devices: () => Iterable<Device>;
  accumulator: Accumulator;
  onSecurityEvent: (e: SecurityEvent) => void;
  logger: Logger;
  clock?: Clock;
  /** Extra communities accepted from any known device. */
  communities?: string[];
  /** How refusals are coalesced per source (flood.ts): 5 at once, then one summary per 60 s. */
  flood?: FloodOptions;
  /** The MIBs that name notifications and their varbinds (config `snmp.mibsDir`); net-snmp's bundled ones when absent. */
  mibs?: MibLookup;
}

export interface TrapReceiverStats {
  received: number;
  published: number;
  malformed: number;
  refused: number;
}

/**
 * Receives SNMP v1/v2c traps and v3 traps and informs (net-snmp acknowledges informs, RFC 3416 §4.2.7),
 * names them and publishes each as an event of the device that sent it. A packet from an unknown source,
 * with a wrong community, failing v3 authentication or that is no SNMP message at all is a security
 * event: someone is probing. A flood of them is coalesced per source (flood.ts), so it cannot push
 * real evidence out of the bounded security-event history.
 */
export class TrapReceiver implements Collector {
  readonly name = 'snmp_trap';
  readonly stats: TrapReceiverStats = { received: 0, published: 0, malformed: 0, refused: 0 };
  private receiver: Receiver | undefined;
  private boundPort = 0;
  private readonly clock: Clock;
  private readonly users = new Set<string>();
  private readonly communities = new Set<string>();
  private flood: SecurityEventFlood | undefined;
  private readonly mibs: MibLookup;

  constructor(private readonly o: TrapReceiverOptions) {
    this.clock = o.clock ?? systemClock;
    this.mibs = o.mibs ?? bundledMibs();
  }

  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<void> {
    const address = this.o.address ?? '127.0.0.1';
    // net-snmp reads port 0 as 162; find an ephemeral one instead.
    const port = this.o.port || (await freeUdpPort(address));
    this.flood = new SecurityEventFlood(this.clock, (e) => this.o.onSecurityEvent(e), this.o.flood);
    const receiver = snmp.createReceiver({ port, address, includeAuthentication: true }, (err, n) => {
      try {
        if (err) this.onError(err as Error & { rinfo?: { address: string }; error?: Error });
        else if (n) this.onNotification(n);
      } catch (e) {
        this.o.logger.warn({ err: (e as Error).message }, 'trap handling failed');
      }
    });
    this.receiver = receiver;
    this.refreshCredentials();
    const socket = Object.values((receiver as unknown as { listener: { sockets: Record<string, import('node:dgram').Socket> } }).listener.sockets)[0];
    if (!socket) throw new Error('trap receiver has no socket');
    this.boundPort = await new Promise<number>((resolve, reject) => {
      socket.once('listening', () => resolve(socket.address().port));
      socket.once('error', reject);
    });
    socket.on('error', (e) => this.o.logger.warn({ err: e.message }, 'trap receiver socket error'));
  }

  /** Picks up communities and v3 users of devices added since start (net-snmp's authorizer only grows). */
  refreshCredentials(): void {
    const auth = this.receiver?.getAuthorizer();
    if (!auth) return;
    for (const c of this.o.communities ?? []) this.addCommunity(c);
    for (const d of this.o.devices()) {
      const s = d.snmp;
      if (!s) continue;
      if (s.community) this.addCommunity(s.community);
      if (s.v3 && !this.users.has(s.v3.user)) {
        this.users.add(s.v3.user);
        auth.addUser(usmUser(s.v3));
      }
    }
  }

  private addCommunity(c: string): void {
    if (this.communities.has(c)) return;
    this.communities.add(c);
    this.receiver?.getAuthorizer().addCommunity(c);
  }

  async stop(): Promise<void> {
    const r = this.receiver;
    this.receiver = undefined;
    if (r) await new Promise<void>((resolve) => r.close(() => resolve()));
    this.flood?.stop();
    this.flood = undefined;
  }

  private security(type: string, source: string | undefined, detail: string, extra: Partial<SecurityEvent> = {}): void {
    this.report(type, source, detail, extra);
  }

  /** Reports a refusal (coalesced per source); true when it went out at once rather than into a summary. */
  private report(type: string, source: string | undefined, detail: string, extra: Partial<SecurityEvent> = {}): boolean {
    this.stats.refused++;
    const e: SecurityEvent = { ts: this.clock.now(), type, origin: 'snmp', source, detail, ...extra };
    if (!this.flood) {
      this.o.onSecurityEvent(e);
      return true;
    }
    return this.flood.report(e);
  }

  private onError(err: Error & { rinfo?: { address: string }; error?: Error }): void {
    const source = err.rinfo?.address;
    const msg = err.message;
    // net-snmp hands its socket's own errors (a port taken, EADDRINUSE) to the same callback; only an
    // error that came with a datagram (rinfo) is something a sender did.
    if (!err.rinfo) {
      this.o.logger.warn({ err: msg }, 'trap receiver socket error');
      return;
    }
    if (/Local community not found/.test(msg)) {
      // The community is the secret of v1/v2c; it is not repeated into the event.
      return this.security('snmp_bad_community', source, 'SNMP notification with a community this receiver does not accept');
    }
    if (/Local user not found/.test(msg)) return this.security('snmp_unknown_user', source, msg.replace(/^.*user /, 'unknown SNMPv3 user ').slice(0, 120));
    if (/Authentication digest|decrypt|requires (authentication|privacy)/i.test(msg)) {
      return this.security('snmp_v3_auth_failed', source, 'SNMPv3 notification failed authentication or decryption');
    }
    // Not BER, not SNMP, or a PDU no receiver takes (RFC 3413 §4: a notification receiver takes
    // traps and informs only): a scanner or fuzzer, counted and reported like a wrong community.
    this.stats.malformed++;
    const cause = (err.error?.message ?? msg).slice(0, 160);
    if (this.report('snmp_malformed', source, `SNMP datagram refused as malformed or unexpected: ${cause}`)) {
      this.o.logger.warn({ source, err: msg, cause: err.error?.message }, 'malformed SNMP packet ignored');
    }
  }

  private deviceFor(address: string, community: string | undefined, user: string | undefined): Device | undefined {
    const candidates: Device[] = [];
    for (const d of this.o.devices()) if (d.snmp?.host === address) candidates.push(d);
    if (candidates.length <= 1) return candidates[0];
    // Several devices behind one address (a NAT, simulators on loopback): their credentials tell them apart.
    return candidates.find((d) => (community !== undefined && d.snmp?.community === community) || (user !== undefined && d.snmp?.v3?.user === user)) ?? candidates[0];
  }

  private onNotification(n: Notification): void {
    this.stats.received++;
    const { pdu, rinfo } = n;
    const version = pdu.type === snmp.PduType.Trap ? '1' : pdu.user !== undefined ? '3' : '2c';
    const device = this.deviceFor(rinfo.address, pdu.community, pdu.user);
    if (!device) return this.security('snmp_unknown_source', rinfo.address, `SNMP notification from ${rinfo.address}, which is no device in the inventory`, pdu.user ? { username: pdu.user } : {});
    const decoded = decodeTrap(pdu, { version, source: rinfo.address, inform: pdu.type === snmp.PduType.InformRequest }, this.mibs);
    if ('error' in decoded) {
      this.stats.malformed++;
      this.o.logger.warn({ device: device.id, source: rinfo.address, reason: decoded.error }, 'SNMP notification without a trap OID ignored');
      return;
    }
    this.stats.published++;
    this.o.accumulator.event(device.id, { ts: this.clock.now(), ...decoded });
  }
}
