import {
  describeIssue,
  DeviceStatus,
  EventPayload,
  type Clock,
  type DeviceEvent,
  type Estate,
  type Logger,
  type Point,
} from '../../core/index.ts';
import { BurstLog } from './burst-log.ts';
import { decode, Dropped, identify, tag, validate, type DropReason } from './pipeline.ts';

export type { DropReason } from './pipeline.ts';

/** Where ingested data goes: the store, the rules, the realtime fan-out. Each step is synchronous and cheap. */
export interface IngestSink {
  write(points: Point[]): void;
  status(device: string, status: DeviceStatus, ts: number): void;
  event(event: DeviceEvent): void;
}

export interface IngestStats {
  messages: number;
  values: number;
  dropped: Map<DropReason, number>;
  droppedByDevice: Map<string, Map<DropReason, number>>;
}

/**
 * Where accepted points are made durable before their publish is acknowledged: the store's write-ahead
 * log (store/wal.ts). `done` runs once the points are on disk, or with the error that kept them off it.
 * Called after the sink's write() has handed the points to the store.
 */
export interface DurableLog {
  append(points: readonly Point[], done: (err?: Error) => void): void;
}

export interface MqttIngest {
  readonly stats: IngestStats;
  /**
   * Runs a QoS 1 publish through ingest now, while the embedded broker holds its PUBACK, and calls `ack`
   * once its points are durable (ack(err): they are not, and the broker refuses the publish). The
   * broker's later delivery of the same packet to the subscription is skipped.
   */
  holdAck(packet: Message, ack: (err?: Error) => void): void;
  stop(): Promise<void>;
}

const TOPICS = ['devices/+/telemetry', 'devices/+/events', 'devices/+/status'] as const;

interface Message {
  topic: string;
  payload: Buffer | string;
  qos?: number;
}

/**
 * Where ingest subscribes: the embedded aedes (in-process, no TCP hop) or the product's client of an
 * external broker (broker/external.ts); structural, so collectors/ does not depend on broker/.
 */
export interface MessageSource {
  subscribe(filter: string, deliver: (packet: Message, done: () => void) => void, done: (err?: Error) => void): void;
  unsubscribe(filter: string, deliver: (packet: Message, done: () => void) => void, done: () => void): void;
}

/** This worker's share of the devices when several ingest workers watch the same (clustered aedes) stream. */
export interface IngestPartition {
  index: number;
  count: number;
}

/** FNV-1a (32 bit) of the device id modulo `count`: the ingest worker that owns the device. */
export function partitionOf(device: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < device.length; i++) {
    h ^= device.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

export interface MqttIngestOptions {
  /** The embedded aedes broker (kept name) or any MessageSource. */
  aedes?: MessageSource;
  source?: MessageSource;
  estate: Estate;
  sink: IngestSink;
  clock: Clock;
  logger: Logger;
  /** External broker: subscribe as `$share/{shareGroup}/devices/+/...`; the broker hands each message to one worker of the group. */
  shareGroup?: string;
  /** Embedded clustered brokers (no shared subscriptions): handle only the devices of this partition. */
  partition?: IngestPartition;
  /** The write-ahead log QoS 1 (through holdAck) and QoS 2 telemetry waits for; without it nothing waits. */
  log?: DurableLog;
}

interface Route {
  device: string;
  kind: string;
}

/** devices/{id}/{kind}; undefined for any other topic (the wildcard subscriptions guarantee the shape, holdAck sees every publish). */
function routeOf(topic: string): Route | undefined {
  if (!topic.startsWith('devices/')) return undefined;
  const second = topic.indexOf('/', 8);
  if (second < 0 || topic.indexOf('/', second + 1) >= 0) return undefined;
  return { device: topic.slice(8, second), kind: topic.slice(second + 1) };
}

/**
 * Subscribes to every device's telemetry, events and status, and runs each message through
 * identify -> decode -> validate -> tag (pipeline.ts) -> hand to the sink. On the embedded broker the ACL has already
 * checked that the publisher may speak for the device in the topic; an external broker's own ACL does that.
 */
export function startMqttIngest(options: MqttIngestOptions): Promise<MqttIngest> {
  const { estate, sink, clock, partition } = options;
  const source = options.source ?? options.aedes;
  if (!source) throw new Error('startMqttIngest: no message source');
  const burst = new BurstLog(options.logger);
  const stats: IngestStats = { messages: 0, values: 0, dropped: new Map(), droppedByDevice: new Map() };

  const drop = (device: string, reason: DropReason, detail: string): undefined => {
    stats.dropped.set(reason, (stats.dropped.get(reason) ?? 0) + 1);
    let perDevice = stats.droppedByDevice.get(device);
    if (!perDevice) stats.droppedByDevice.set(device, (perDevice = new Map()));
    perDevice.set(reason, (perDevice.get(reason) ?? 0) + 1);
    burst.warn(clock.now(), device, reason, detail);
    return undefined;
  };

  const dropped = (device: string, d: Dropped): undefined => drop(device, d.reason, d.detail);

  /** identify -> decode -> validate -> tag (pipeline.ts): the message's points, none when it is dropped. */
  const onTelemetry = (device: string, payload: Buffer | string): Point[] | undefined => {
    const now = clock.now();
    const tags = identify(estate, device);
    if (tags instanceof Dropped) return dropped(device, tags);
    const json = decode(payload);
    if (json instanceof Dropped) return dropped(device, json);
    const reading = validate(json, now);
    if (reading instanceof Dropped) return dropped(device, reading);
    const points = tag(device, tags, reading);
    stats.values += points.length;
    return points;
  };

  const onEvent = (device: string, payload: Buffer | string): void => {
    const known = identify(estate, device);
    if (known instanceof Dropped) return dropped(device, known);
    const json = decode(payload);
    if (json instanceof Dropped) return dropped(device, json);
    const r = EventPayload.safeParse(json);
    if (!r.success) return drop(device, 'invalid_event', describeIssue(r.error));
    sink.event({ device, ts: r.data.ts ?? clock.now(), type: r.data.type, severity: r.data.severity, attributes: r.data.attributes });
  };

  const onStatus = (device: string, payload: Buffer | string): void => {
    const known = identify(estate, device);
    if (known instanceof Dropped) return dropped(device, known);
    const text = payload.toString().trim();
    const r = DeviceStatus.safeParse(text);
    if (!r.success) return drop(device, 'invalid_status', `expected "online" or "offline", got "${text.slice(0, 32)}"`);
    sink.status(device, r.data, clock.now());
  };

  /** Payloads holdAck already ingested: aedes hands the same Buffer to the subscription after the PUBACK. */
  const ingested = new WeakSet<Buffer>();
  const { log } = options;

  /**
   * Telemetry through the sink (store, rules, screens); the points, for the log, unless dropped. The
   * sink's write() hands them to the store first, so a fault after that (a rule) still logs them.
   */
  const telemetryOf = (device: string, packet: Message): Point[] | undefined => {
    let points: Point[] | undefined;
    try {
      points = onTelemetry(device, packet.payload);
      if (points) sink.write(points);
    } catch (err) {
      options.logger.error({ device, topic: packet.topic, err: (err as Error).message }, 'ingest: message handling failed');
    }
    return points;
  };

  /** Makes the points durable, then answers; a failed log refuses (the publisher sends the message again). */
  const durable = (points: Point[] | undefined, answer: (err?: Error) => void): void => {
    if (!log || !points || points.length === 0) return answer();
    log.append(points, answer);
  };

  const holdAck = (packet: Message, ack: (err?: Error) => void): void => {
    const at = routeOf(packet.topic);
    // Only telemetry this worker owns, arriving as a Buffer it can recognise again; the rest goes the usual way.
    if (!log || !at || at.kind !== 'telemetry' || !Buffer.isBuffer(packet.payload) || (partition && partitionOf(at.device, partition.count) !== partition.index)) return ack();
    ingested.add(packet.payload);
    stats.messages++;
    // The rules see the points now; only the acknowledgment waits for the disk.
    durable(telemetryOf(at.device, packet), ack);
  };

  const deliver = (packet: Message, done: () => void): void => {
    if (Buffer.isBuffer(packet.payload) && ingested.delete(packet.payload)) return done();
    const route = routeOf(packet.topic);
    if (!route) return done();
    const { device, kind } = route;
    if (partition && partitionOf(device, partition.count) !== partition.index) return done();
    stats.messages++;
    if (kind === 'telemetry') {
      const points = telemetryOf(device, packet);
      // QoS 2: aedes sends PUBREC once every subscriber called back, so this one waits for the log.
      if (packet.qos === 2) return durable(points, (err) => {
        if (err) options.logger.error({ device, err: err.message }, 'ingest: a QoS 2 message could not be made durable');
        done();
      });
      return done();
    }
    try {
      if (kind === 'events') onEvent(device, packet.payload);
      else onStatus(device, packet.payload);
    } catch (err) {
      // A fault downstream must not stop the stream for every other device.
      options.logger.error({ device, topic: packet.topic, err: (err as Error).message }, 'ingest: message handling failed');
    }
    done();
  };

  const filters = TOPICS.map((t) => (options.shareGroup ? `$share/${options.shareGroup}/${t}` : t));
  return Promise.all(filters.map((f) => new Promise<void>((resolve, reject) => source.subscribe(f, deliver, (err) => (err ? reject(err) : resolve()))))).then(() => ({
    stats,
    holdAck,
    stop: () => Promise.all(filters.map((f) => new Promise<void>((resolve) => source.unsubscribe(f, deliver, resolve)))).then(() => undefined),
  }));
}
