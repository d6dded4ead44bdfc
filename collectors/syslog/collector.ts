/*
 * The syslog collector of the running product (issue 15): the receiver (receiver.ts) on the configured
 * ports, each line mapped to its inventory device (senders.ts), published through the broker in batches
 * on `logs/{collector}` like any collector (batcher.ts), registered as `syslog` (index.ts).
 * An unknown sender's lines are kept, marked `watchfloor.unknown_sender`, and raise the security event
 * `syslog_unknown_sender` once per source address per `syslog.unknownSenderEverySeconds` (10 min).
 */
import type { MqttClient } from 'mqtt';
import { systemClock, type Clock, type Device, type Estate, type Logger, type LogLine, type SecurityEvent, type SyslogConfig } from '../../core/index.ts';
import { connectPublisher, publisherClientId, publisherLogin } from '../publisher.ts';
import type { Collector, CollectorContext, CollectorPublishTarget } from '../registry.ts';
import { LogBatcher } from './batcher.ts';
import { startSyslogReceiver, DROP_REASONS, type SyslogOrigin, type SyslogReceiver, type SyslogStats, type SyslogTransport } from './receiver.ts';
import { plainAddress, SenderMap } from './senders.ts';
import { syslogTls } from './tls-files.ts';

/** The broker account (and topic level) of the syslog collector. */
export const SYSLOG_COLLECTOR_ACCOUNT = 'syslog-collector';
/** The topic its batches go to. */
export const logsTopic = (collector: string): string => `logs/${collector}`;
/** Unknown sources remembered for the once-per-window event; beyond it the oldest is forgotten. */
const MAX_UNKNOWN_SOURCES = 10_000;

export interface SyslogCollectorOptions {
  config: SyslogConfig;
  estate: Estate;
  publishTo: CollectorPublishTarget;
  dataDir: string;
  /** The broker's largest payload (mqtt.maxPayloadBytes): a batch stays under it. */
  maxPayloadBytes: number;
  logger: Logger;
  clock?: Clock;
  onSecurityEvent(e: SecurityEvent): void;
}

/** The collector's own figures, beside the receivers' (all receivers summed). */
export interface SyslogCollectorStats extends SyslogStats {
  /** Lines of senders no device matched. */
  unknownSenderLines: number;
  /** Lines published onto the broker, and the messages that carried them. */
  published: { lines: number; messages: number };
}

/** The `syslog` collector (see the file comment). */
export class SyslogCollector implements Collector {
  readonly name = 'syslog';
  private readonly clock: Clock;
  private receivers: SyslogReceiver[] = [];
  private client: MqttClient | undefined;
  private batcher: LogBatcher | undefined;
  private senders: SenderMap;
  private readonly unknownSeen = new Map<string, number>();
  private unknownSenderLines = 0;
  private readonly published = { lines: 0, messages: 0 };
  private topic = logsTopic(SYSLOG_COLLECTOR_ACCOUNT);

  constructor(private readonly o: SyslogCollectorOptions) {
    this.clock = o.clock ?? systemClock;
    this.senders = new SenderMap(o.estate.devices.values());
  }

  /** Reads `syslog` from the product's config. */
  static fromContext(c: CollectorContext): SyslogCollector {
    return new SyslogCollector({
      config: c.config.syslog, estate: c.estate, publishTo: c.publishTo, dataDir: c.config.dataDir, maxPayloadBytes: c.config.mqtt.maxPayloadBytes,
      logger: c.logger, clock: c.clock, onSecurityEvent: (e) => c.onSecurityEvent(e),
    });
  }

  /** The bound ports (an ephemeral one's number), per transport. */
  get ports(): { udp?: number; tcp?: number; tls?: number } {
    return Object.assign({}, ...this.receivers.map((r) => r.ports)) as { udp?: number; tcp?: number; tls?: number };
  }

  async start(): Promise<void> {
    const cfg = this.o.config;
    if (!cfg.enabled || this.client) return;
    this.client = await this.connect();
    const client = this.client;
    this.batcher = new LogBatcher({
      maxLines: cfg.batch.maxLines, maxDelayMs: cfg.batch.maxDelayMs, maxBytes: Math.max(4096, this.o.maxPayloadBytes - 1024),
      send: (payload, lines) => {
        this.published.messages++;
        this.published.lines += lines;
        client.publish(this.topic, payload, { qos: 0 });
      },
    });
    const tls = cfg.tlsPort === false ? undefined : syslogTls(cfg.tls, this.o.dataDir, this.o.logger);
    const wanted: Record<SyslogTransport, number | false> = { udp: cfg.udpPort, tcp: cfg.tcpPort, tls: tls ? cfg.tlsPort : false };
    const base = {
      host: cfg.host, tls, timezone: cfg.timezone, logger: this.o.logger, clock: this.clock,
      limits: cfg.ratePerSecond ? { ratePerSecond: cfg.ratePerSecond, burst: cfg.ratePerSecond * 2 } : undefined,
      onLine: (line: LogLine, origin: SyslogOrigin) => this.onLine(line, origin),
    };
    try {
      this.receivers = [await startSyslogReceiver({ ...base, udpPort: wanted.udp, tcpPort: wanted.tcp, tlsPort: wanted.tls })];
    } catch (err) {
      // One port taken (another syslog daemon, another test) must not take the others down: each alone.
      this.o.logger.error({ err: (err as Error).message, host: cfg.host, ...wanted }, 'syslog: a port could not be bound; starting each listener on its own (set syslog.udpPort/tcpPort/tlsPort or WATCHFLOOR_SYSLOG_PORT)');
      for (const t of ['udp', 'tcp', 'tls'] as const) {
        if (wanted[t] === false) continue;
        try {
          this.receivers.push(await startSyslogReceiver({ ...base, udpPort: t === 'udp' ? wanted.udp : false, tcpPort: t === 'tcp' ? wanted.tcp : false, tlsPort: t === 'tls' ? wanted.tls : false }));
        } catch (e) {
          this.o.logger.error({ transport: t, port: wanted[t], host: cfg.host, err: (e as Error).message }, 'syslog: listener not started');
        }
      }
    }
    this.o.logger.info({ host: cfg.host, ports: this.ports, tls: tls ? 'on' : 'off' }, 'syslog collector listening');
  }

  /** A device registered (or replaced) at run time: the estate holds it already, so the index is rebuilt from it. */
  onDeviceAdded(device: Device): void {
    this.senders = new SenderMap([...this.o.estate.devices.values()].filter((d) => d.id !== device.id).concat(device));
  }

  /** Receivers' figures summed, with the collector's own. */
  stats(): SyslogCollectorStats {
    const sum: SyslogCollectorStats = {
      received: { udp: 0, tcp: 0, tls: 0 }, bytes: 0, lines: 0,
      dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as SyslogStats['dropped'],
      truncated: 0, invalidUtf8: 0, connections: { open: 0, accepted: 0, refused: 0, timedOut: 0, tlsFailed: 0 }, queue: { length: 0, peak: 0 },
      unknownSenderLines: this.unknownSenderLines, published: { ...this.published },
    };
    for (const { stats: s } of this.receivers) {
      for (const t of ['udp', 'tcp', 'tls'] as const) sum.received[t] += s.received[t];
      for (const r of DROP_REASONS) sum.dropped[r] += s.dropped[r];
      for (const k of ['open', 'accepted', 'refused', 'timedOut', 'tlsFailed'] as const) sum.connections[k] += s.connections[k];
      sum.bytes += s.bytes;
      sum.lines += s.lines;
      sum.truncated += s.truncated;
      sum.invalidUtf8 += s.invalidUtf8;
      sum.queue.length += s.queue.length;
      sum.queue.peak = Math.max(sum.queue.peak, s.queue.peak);
    }
    return sum;
  }

  async stop(): Promise<void> {
    for (const r of this.receivers) await r.stop();
    this.receivers = [];
    this.batcher?.flush();
    const client = this.client;
    this.client = undefined;
    if (client) await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  /** map -> mark -> batch: one parsed line from the receiver. */
  private onLine(line: LogLine, origin: SyslogOrigin): void {
    const address = plainAddress(origin.address);
    line.fields['watchfloor.sender'] = address;
    if (origin.clientCertificate) line.fields['watchfloor.tls_client'] = origin.clientCertificate;
    const found = this.senders.deviceOf(line, address);
    if (found) line.device = found.device;
    else this.unknown(line, address, origin);
    this.batcher?.add(line);
  }

  /** An unknown sender: marked, counted, and one security event per source and window. */
  private unknown(line: LogLine, address: string, origin: SyslogOrigin): void {
    line.fields['watchfloor.unknown_sender'] = 'true';
    this.unknownSenderLines++;
    const now = this.clock.now();
    const last = this.unknownSeen.get(address);
    if (last !== undefined && now - last < this.o.config.unknownSenderEverySeconds * 1000) return;
    this.unknownSeen.delete(address);
    if (this.unknownSeen.size >= MAX_UNKNOWN_SOURCES) {
      const oldest = this.unknownSeen.keys().next().value;
      if (oldest !== undefined) this.unknownSeen.delete(oldest);
    }
    this.unknownSeen.set(address, now);
    this.o.onSecurityEvent({
      ts: now, type: 'syslog_unknown_sender', origin: 'syslog', source: address,
      detail: `syslog over ${origin.transport} from an address and hostname ("${line.host.slice(0, 128)}") no inventory device has; its lines are kept, marked watchfloor.unknown_sender`,
    });
  }

  /** Logs in to the broker: the embedded one as `syslog-collector` (log lines on its own topic only), an external one as configured. */
  private async connect(): Promise<MqttClient> {
    const login = await publisherLogin(this.o.publishTo, SYSLOG_COLLECTOR_ACCOUNT, (accounts, username, password) => {
      if (!accounts.setLogPublisher) throw new Error('syslog: the broker accounts cannot make a log publisher account');
      return accounts.setLogPublisher(username, password);
    });
    this.topic = logsTopic(login.username ?? SYSLOG_COLLECTOR_ACCOUNT);
    return connectPublisher(login, publisherClientId(SYSLOG_COLLECTOR_ACCOUNT), this.o.logger, 'syslog collector');
  }
}
