/*
 * The `line_protocol` collector: bodies of InfluxDB line protocol handed over by the ops server's
 * /write and /api/v2/write, published onto the broker as telemetry batches (`telemetry/{account}`,
 * batch.ts: every device and timestamp of a body in one message, or a few under the broker's payload
 * limit), at QoS 1: a write is answered once the broker (and ingest's write-ahead log, with durable
 * acks) has every message of it.
 * Path: parse -> bound (retention) -> identify (device tag, auto-registration) -> type-check -> map -> batch -> publish.
 * One pass over the body (parse.ts readLineProtocol), no object per line: a series key's device and
 * metric names are worked out once and kept (`series`), values go straight into the body's readings.
 */
import type { MqttClient } from 'mqtt';
import { ConfigError, Device, issueLines, type Clock, type Estate, type Logger } from '../../core/index.ts';
import { connectPublisher, publisherClientId, publisherLogin } from '../publisher.ts';
import type { Collector, CollectorContext, CollectorPublishTarget } from '../registry.ts';
import { DEFAULT_INSTANCE_TAGS, hostMatcher, LineProtocolConfig, type AutoRegisterRule, type LineProtocolConfigInput } from './config.ts';
import { TelemetryBatchEncoder, telemetryBatchTopic } from './batch.ts';
import { FieldTypeBook, metricOf, type Refusal } from './mapping.ts';
import { readLineProtocol, type FieldValue, type LineError, type LineFields, type Precision, type ReadPosition, type SeriesKey } from './parse.ts';

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
  /** The broker's largest payload (mqtt.maxPayloadBytes): each batch message stays under it. */
  maxPayloadBytes?: number;
}

/** What a field of a series means here: its metric, and the type the type book last agreed to. */
interface FieldInfo {
  key: string;
  /** The metric name; null when refused (bad_metric_name); undefined until first needed. */
  metric: string | null | undefined;
  /** The type the book took for this field at `generation`; while the book forgets nothing, the same type needs no new check. */
  type: FieldValue['type'] | undefined;
  generation: number;
}

/** What a series key (measurement and tags) means here, worked out once per distinct text. */
interface SeriesInfo extends SeriesKey {
  /** The first of `deviceTags` present. */
  device: string | undefined;
  instance: readonly string[] | undefined;
  fields: Map<string, FieldInfo>;
  /** The fields of its last line, in order: the next line of the series usually has the same (no lookup then). */
  last: FieldInfo[];
}

/** Series keys remembered; past it the memory starts again (a writer of ever new tag values costs a parse a line, not memory). */
const MAX_SERIES = 100_000;

/** QoS 1 messages in flight at once (a batch message is up to maxPayloadBytes). */
const MAX_INFLIGHT = 1_000;

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
  private readonly series = new Map<string, SeriesInfo>();
  private topic = '';
  /** The next write's connection: a write's messages all take one, in order; writes take turns. */
  private turn = 0;

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
    return new LineProtocolCollector({ config: section as LineProtocolConfigInput | undefined, estate: c.estate, publishTo: c.publishTo, logger: c.logger, clock: c.clock, storeRetentionDays: c.config.store.retention.hourDays, maxPayloadBytes: c.config.mqtt.maxPayloadBytes });
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
    const login = await publisherLogin(this.o.publishTo, LINE_PROTOCOL_COLLECTOR_ACCOUNT, (accounts, username, password) => {
      if (!accounts.setTelemetryBatchPublisher) throw new Error('line protocol: the broker accounts cannot make a telemetry batch publisher account');
      return accounts.setTelemetryBatchPublisher(username, password);
    });
    // On an external broker, its ACL must let the collector account write `telemetry/{that account}`.
    this.topic = telemetryBatchTopic(login.username ?? LINE_PROTOCOL_COLLECTOR_ACCOUNT);
    // Several connections: a broker handles one client's QoS 1 publishes in order, each acknowledged after
    // ingest's log has it, so one connection's throughput is one log commit at a time. A write's messages
    // take one connection (in order), so a writer that waits for each answer keeps its order.
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
    this.counts.writes++;
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
    /** device -> may write (true), or why not. */
    const known = new Map<string, true | Refusal>();
    // device -> ts -> metric -> value: one reading per device and timestamp.
    const byDevice = new Map<string, Map<number, Map<string, number>>>();
    let admitting = '';
    // The reading of the last line: a host's lines of one time usually come together.
    let lastDevice = '';
    let lastTs = NaN;
    let lastMetrics = new Map<string, number>();
    const infos: FieldInfo[] = [];
    const line = (s: SeriesInfo, f: LineFields): boolean => {
      const ts = f.ts;
      if (ts < oldest || ts > newest) {
        drop('beyond_retention', 'points beyond retention policy');
        return true;
      }
      const device = s.device;
      if (device === undefined) {
        drop('no_device_tag', `no device tag (${this.config.deviceTags.join(', ')}) on measurement "${s.measurement}"`);
        return true;
      }
      let ok = known.get(device);
      if (ok === undefined) {
        if (!this.o.estate.devices.has(device)) {
          // Auto-registration awaits: the read stops before this line and starts again from it.
          admitting = device;
          return false;
        }
        known.set(device, (ok = true));
      }
      if (ok !== true) {
        drop(ok, `unknown device "${device.slice(0, 128)}": not in the inventory and no auto-registration rule allows it for writer "${w.writer}"`);
        return true;
      }
      const generation = this.types.generation;
      for (let i = 0; i < f.count; i++) {
        const key = f.keys[i] as string;
        const type = f.types[i] as FieldValue['type'];
        let info = s.last[i];
        if (info?.key !== key) {
          info = s.fields.get(key);
          if (!info) s.fields.set(key, (info = { key, metric: undefined, type: undefined, generation: -1 }));
          s.last[i] = info;
        }
        infos[i] = info;
        if (info.type === type && info.generation === generation) continue;
        const conflict = this.types.check(s.measurement, key, type);
        if (conflict) {
          drop('type_conflict', conflict);
          return true;
        }
        info.type = type;
        info.generation = generation;
      }
      if (s.last.length > f.count) s.last.length = f.count;
      let metrics = lastMetrics;
      if (device !== lastDevice || ts !== lastTs) {
        let perTs = byDevice.get(device);
        if (!perTs) byDevice.set(device, (perTs = new Map()));
        const known = perTs.get(ts);
        if (known) metrics = known;
        else perTs.set(ts, (metrics = new Map()));
        lastDevice = device;
        lastTs = ts;
        lastMetrics = metrics;
      }
      for (let i = 0; i < f.count; i++) {
        if (f.types[i] === 'string') {
          refuse('string_field');
          continue;
        }
        const info = infos[i] as FieldInfo;
        let metric = info.metric;
        if (metric === undefined) info.metric = metric = metricOf(s.measurement, info.key, s.tags, s.instance) ?? null;
        if (metric === null) {
          refuse('bad_metric_name');
          continue;
        }
        metrics.set(metric, f.numbers[i] as number);
        outcome.values++;
      }
      outcome.accepted++;
      return true;
    };
    const visitor = {
      known: (text: string): SeriesInfo | undefined => this.series.get(text),
      series: (text: string, key: SeriesKey): SeriesInfo => this.seriesOf(text, key),
      line,
      error: (e: LineError) => outcome.errors.push(e),
    };
    let at: ReadPosition | undefined = { offset: 0, line: 0 };
    while ((at = readLineProtocol(w.body, w.precision, now, visitor, at))) {
      const ok = await this.admit(admitting, w.writer);
      known.set(admitting, ok ? true : Device.shape.id.safeParse(admitting).success ? 'unknown_device' : 'bad_device_id');
    }
    this.counts.badLines += outcome.errors.length;
    const encoder = new TelemetryBatchEncoder(Math.max(4096, (this.o.maxPayloadBytes ?? 256 * 1024) - 1024));
    for (const [device, perTs] of byDevice) {
      for (const [ts, metrics] of perTs) if (metrics.size > 0) encoder.add(device, ts, metrics);
    }
    const payloads = encoder.finish();
    const client = this.clients[this.turn++ % this.clients.length];
    this.queued += outcome.values;
    try {
      await Promise.all(payloads.map((payload) => this.send(client, payload)));
    } finally {
      this.queued -= outcome.values;
    }
    this.counts.points += outcome.accepted;
    this.counts.values += outcome.values;
    return outcome;
  }

  /** What a series key means here, kept: its device and instance now, its metric names as its fields come. */
  private seriesOf(text: string, key: SeriesKey): SeriesInfo {
    let device: string | undefined;
    for (const t of this.config.deviceTags) {
      device = key.tags[t];
      if (device !== undefined) break;
    }
    const s: SeriesInfo = { ...key, device, instance: this.instanceTags[key.measurement], fields: new Map(), last: [] };
    if (this.series.size >= MAX_SERIES) this.series.clear();
    this.series.set(text, s);
    return s;
  }

  /** Publishes at QoS 1 with at most MAX_INFLIGHT messages unacknowledged: MQTT packet ids are 16-bit [MQTT-2.3.1], and the broker's window is finite. */
  private async send(client: MqttClient | undefined, body: string): Promise<void> {
    while (this.inflight >= MAX_INFLIGHT) await new Promise<void>((r) => this.waiting.push(r));
    if (!client) throw new Error('the line protocol collector is stopped');
    this.inflight++;
    try {
      await new Promise<void>((resolve, reject) => client.publish(this.topic, body, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
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
