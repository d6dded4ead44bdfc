/*
 * The `line_protocol` collector: bodies of InfluxDB line protocol handed over by the ops server's
 * /write and /api/v2/write, published onto the broker as `devices/{id}/telemetry` like every
 * collector (one message per device and timestamp), at QoS 1: a write is answered once the broker
 * (and ingest's write-ahead log, with durable acks) has every message.
 * Path: parse -> bound (retention) -> identify (device tag, auto-registration) -> type-check -> map -> publish.
 */
import type { MqttClient } from 'mqtt';
import { ConfigError, Device, issueLines, type Clock, type Estate, type Logger } from '../../core/index.ts';
import { connectPublisher, publisherClientId, publisherLogin } from '../publisher.ts';
import type { Collector, CollectorContext, CollectorPublishTarget } from '../registry.ts';
import { DEFAULT_INSTANCE_TAGS, hostMatcher, LineProtocolConfig, type AutoRegisterRule, type LineProtocolConfigInput } from './config.ts';
import { deviceOf, FieldTypeBook, metricOf, numberOf, type Refusal } from './mapping.ts';
import { parseLineProtocol, type LineError, type Precision } from './parse.ts';

export const LINE_PROTOCOL_COLLECTOR_ACCOUNT = 'line-protocol-collector';

/** One write as the ops server hands it over. */
export interface LineProtocolWrite {
  body: string;
  precision: Precision;
  /** The writer's API token name (auto-registration rules name it). */
  writer: string;
}

/** What became of a write; the ops server turns it into InfluxDB's answer. */
export interface LineProtocolOutcome {
  /** Points (lines) handed on. */
  accepted: number;
  /** Numeric values published (a line's fields). */
  values: number;
  /** Lines that did not parse. */
  errors: LineError[];
  /** Parsed points not written, and why (InfluxDB's partial-write reasons). */
  dropped: number;
  dropReasons: string[];
  refused: Partial<Record<Refusal, number>>;
  /** The bounded queue is full: nothing was taken (a 429). */
  busy?: true;
  /** The broker link is down: nothing was taken (a 503). */
  unavailable?: true;
}

export interface LineProtocolStats {
  writes: number;
  points: number;
  values: number;
  badLines: number;
  refused: Record<Refusal, number>;
  busy: number;
  registered: number;
  queued: number;
}

export interface LineProtocolCollectorOptions {
  config?: LineProtocolConfigInput;
  estate: Estate;
  publishTo: CollectorPublishTarget;
  logger: Logger;
  clock: Clock;
  /** The store's longest retention in days (config store.retention.hourDays): the default for `pastDays`. */
  storeRetentionDays?: number;
}

/** QoS 1 messages in flight at once. */
const MAX_INFLIGHT = 16_000;

/** A device's connection: FNV-1a of its id, so its messages keep their order. */
function connectionOf(device: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < device.length; i++) h = Math.imul(h ^ device.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

/** The line protocol door of the product: InfluxDB writers' points onto the broker. */
export class LineProtocolCollector implements Collector {
  readonly name = 'line_protocol';
  readonly config: LineProtocolConfig;
  private readonly types = new FieldTypeBook();
  private readonly rules: { rule: AutoRegisterRule; matches: (host: string) => boolean }[];
  private readonly clients: MqttClient[] = [];
  private queued = 0;
  private inflight = 0;
  private readonly waiting: (() => void)[] = [];
  private registrar: ((device: Device) => Promise<void>) | undefined;
  private readonly counts: LineProtocolStats;
  private readonly instanceTags: Record<string, string[]>;

  constructor(private readonly o: LineProtocolCollectorOptions) {
    const parsed = LineProtocolConfig.safeParse(o.config ?? {});
    if (!parsed.success) throw new ConfigError('config: lineProtocol', issueLines(parsed.error).map((l) => `lineProtocol.${l}`));
    this.config = parsed.data;
    this.instanceTags = { ...DEFAULT_INSTANCE_TAGS, ...this.config.instanceTags };
    this.rules = this.config.autoRegister.map((rule) => ({ rule, matches: hostMatcher(rule.hosts) }));
    const refused = { no_device_tag: 0, bad_device_id: 0, unknown_device: 0, type_conflict: 0, beyond_retention: 0, bad_metric_name: 0, string_field: 0 };
    this.counts = { writes: 0, points: 0, values: 0, badLines: 0, refused, busy: 0, registered: 0, queued: 0 };
  }

  /** Reads its settings from the config's `lineProtocol` section (collectors/line-protocol/README.md). */
  static fromContext(c: CollectorContext): LineProtocolCollector {
    const section = (c.config as { lineProtocol?: unknown }).lineProtocol;
    return new LineProtocolCollector({ config: section as LineProtocolConfigInput | undefined, estate: c.estate, publishTo: c.publishTo, logger: c.logger, clock: c.clock, storeRetentionDays: c.config.store.retention.hourDays });
  }

  /** How an auto-registered device is kept: the composition root hands the persisted registration (as POST /api/v1/devices); else the estate alone. */
  setRegistrar(register: (device: Device) => Promise<void>): void {
    this.registrar = register;
  }

  /** Largest body accepted, compressed or not. */
  get maxBodyBytes(): number {
    return this.config.maxBodyBytes;
  }

  stats(): LineProtocolStats {
    return { ...this.counts, refused: { ...this.counts.refused }, queued: this.queued };
  }

  async start(): Promise<void> {
    if (this.clients.length > 0) return;
    const login = await publisherLogin(this.o.publishTo, LINE_PROTOCOL_COLLECTOR_ACCOUNT, (accounts, username, password) => accounts.setCollector(username, password, '*'));
    // Several connections: a broker handles one client's QoS 1 publishes in order, each acknowledged after
    // ingest's log has it, so one connection's throughput is one log commit at a time. A device's
    // messages always take the same connection (its order kept).
    try {
      for (let i = 0; i < this.config.connections; i++) {
        this.clients.push(await connectPublisher(login, publisherClientId(LINE_PROTOCOL_COLLECTOR_ACCOUNT, `-${i}`), this.o.logger, 'line protocol'));
      }
    } catch (err) {
      for (const c of this.clients.splice(0)) c.end(true);
      throw err;
    }
    for (const { rule } of this.rules) {
      if (!this.o.estate.sites.has(rule.site)) this.o.logger.warn({ hosts: rule.hosts, site: rule.site }, 'line protocol: an auto-registration rule names a site the inventory does not have; it registers nothing');
    }
    this.o.logger.info({ autoRegisterRules: this.rules.length, connections: this.clients.length }, 'line protocol collector started');
  }

  async stop(): Promise<void> {
    const all = this.clients.splice(0);
    await Promise.all(all.map((c) => new Promise<void>((r) => c.end(false, {}, () => r()))));
  }

  /** Takes one body: the good lines are published (and acknowledged) before it resolves; the bad ones are named. */
  async write(w: LineProtocolWrite): Promise<LineProtocolOutcome> {
    const outcome: LineProtocolOutcome = { accepted: 0, values: 0, errors: [], dropped: 0, dropReasons: [], refused: {} };
    if (this.clients.length === 0 || !this.clients.every((c) => c.connected)) return { ...outcome, unavailable: true };
    if (this.queued >= this.config.maxQueuedPoints) {
      this.counts.busy++;
      return { ...outcome, busy: true };
    }
    const now = this.o.clock.now();
    const { points, errors } = parseLineProtocol(w.body, w.precision, now);
    outcome.errors = errors;
    this.counts.writes++;
    this.counts.badLines += errors.length;
    const refuse = (why: Refusal, n = 1): void => {
      outcome.refused[why] = (outcome.refused[why] ?? 0) + n;
      this.counts.refused[why] += n;
    };
    const drop = (why: Refusal, reason: string): void => {
      outcome.dropped++;
      refuse(why);
      if (outcome.dropReasons.length < 5 && !outcome.dropReasons.includes(reason)) outcome.dropReasons.push(reason);
    };
    const oldest = now - (this.config.pastDays ?? this.o.storeRetentionDays ?? 1825) * 86_400_000;
    const newest = now + this.config.futureMinutes * 60_000;
    const known = new Map<string, boolean>();
    // device -> ts -> metrics: one telemetry message per device and timestamp.
    const byDevice = new Map<string, Map<number, Record<string, number>>>();
    for (const p of points) {
      if (p.ts < oldest || p.ts > newest) {
        drop('beyond_retention', 'points beyond retention policy');
        continue;
      }
      const device = deviceOf(p, this.config.deviceTags);
      if (device === undefined) {
        drop('no_device_tag', `no device tag (${this.config.deviceTags.join(', ')}) on measurement "${p.measurement}"`);
        continue;
      }
      let ok = known.get(device);
      if (ok === undefined) {
        ok = await this.admit(device, w.writer);
        known.set(device, ok);
      }
      if (!ok) {
        drop(Device.shape.id.safeParse(device).success ? 'unknown_device' : 'bad_device_id', `unknown device "${device.slice(0, 128)}": not in the inventory and no auto-registration rule allows it for writer "${w.writer}"`);
        continue;
      }
      let conflict: string | undefined;
      for (const [field, v] of Object.entries(p.fields)) {
        conflict ??= this.types.check(p.measurement, field, v.type);
      }
      if (conflict) {
        drop('type_conflict', conflict);
        continue;
      }
      let perTs = byDevice.get(device);
      if (!perTs) byDevice.set(device, (perTs = new Map()));
      let metrics = perTs.get(p.ts);
      if (!metrics) perTs.set(p.ts, (metrics = {}));
      const instance = this.instanceTags[p.measurement];
      for (const [field, v] of Object.entries(p.fields)) {
        const value = numberOf(v);
        if (value === undefined) {
          refuse('string_field');
          continue;
        }
        const metric = metricOf(p.measurement, field, p.tags, instance);
        if (metric === undefined) {
          refuse('bad_metric_name');
          continue;
        }
        metrics[metric] = value;
        outcome.values++;
      }
      outcome.accepted++;
    }
    const sends: Promise<void>[] = [];
    this.queued += outcome.values;
    for (const [device, perTs] of byDevice) {
      for (const [ts, metrics] of perTs) {
        if (Object.keys(metrics).length > 0) sends.push(this.send(device, JSON.stringify({ ts, metrics })));
      }
    }
    try {
      await Promise.all(sends);
    } finally {
      this.queued -= outcome.values;
    }
    this.counts.points += outcome.accepted;
    this.counts.values += outcome.values;
    return outcome;
  }

  /** Publishes at QoS 1 with at most MAX_INFLIGHT messages unacknowledged: MQTT packet ids are 16-bit [MQTT-2.3.1], and the broker's window is finite. */
  private async send(device: string, body: string): Promise<void> {
    while (this.inflight >= MAX_INFLIGHT) await new Promise<void>((r) => this.waiting.push(r));
    const client = this.clients[connectionOf(device, this.clients.length)];
    if (!client) throw new Error('the line protocol collector is stopped');
    this.inflight++;
    try {
      await new Promise<void>((resolve, reject) => client.publish(`devices/${device}/telemetry`, body, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    } finally {
      this.inflight--;
      this.waiting.shift()?.();
    }
  }

  /** Whether a device may write: in the estate, or registered now by the first auto-registration rule that allows it. */
  private async admit(host: string, writer: string): Promise<boolean> {
    if (this.o.estate.devices.has(host)) return true;
    const found = this.rules.find((r) => (r.rule.token === '*' || r.rule.token === writer) && r.matches(host));
    if (!found || !this.o.estate.sites.has(found.rule.site)) return false;
    const parsed = Device.safeParse({ id: host, name: host, kind: found.rule.kind, layer: found.rule.layer, location: { site: found.rule.site }, labels: { registeredBy: 'line-protocol', writer } });
    if (!parsed.success) return false;
    try {
      if (this.registrar) await this.registrar(parsed.data);
      else this.o.estate.add(parsed.data);
    } catch (err) {
      this.o.logger.warn({ device: host, err: (err as Error).message }, 'line protocol: auto-registration failed');
      return false;
    }
    this.counts.registered++;
    this.o.logger.info({ device: host, writer, kind: parsed.data.kind, layer: parsed.data.layer, site: found.rule.site }, 'line protocol: device auto-registered');
    return true;
  }
}
