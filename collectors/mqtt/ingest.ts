import {
  describeIssue,
  DeviceStatus,
  EventPayload,
  type Clock,
  type DeviceEvent,
  type Estate,
  type Logger,
  type LogLine,
  type Point,
} from '../../core/index.ts';
import { BurstLog } from './burst-log.ts';
import { IngestTurns } from './turns.ts';
import { CHECK_REPORT_FILTER } from '../checks/report.ts';
import { decode, decodeCheckReport, Dropped, identify, tag, validate, validateLogs, type DropReason, type ServiceCheckMessage } from './pipeline.ts';
import { TELEMETRY_BATCH_FILTER, TELEMETRY_BATCH_PREFIX, telemetryBatchIngest } from './telemetry-batches.ts';

export type { DropReason } from './pipeline.ts';

/** Where ingested data goes: the store, the rules, the realtime fan-out. Each step is synchronous and cheap. */
export interface IngestSink {
  write(points: Point[]): void;
  status(device: string, status: DeviceStatus, ts: number): void;
  event(event: DeviceEvent): void;
  /** A service check result (`services/{serviceId}/checks/{checkKey}`); without it, those topics are not subscribed. */
  serviceCheck?(message: ServiceCheckMessage): void;
  /** A syslog collector's batch (`logs/{collector}`), validated; without it, those topics are not subscribed. */
  logs?(lines: LogLine[], collector: string): void;
}

export interface IngestStats {
  messages: number;
  values: number;
  dropped: Map<DropReason, number>;
  droppedByDevice: Map<string, Map<DropReason, number>>;
  /** Log lines accepted from `logs/{collector}` messages, and those left out as malformed. */
  logLines: number;
  logLinesInvalid: number;
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
  /** Device messages waiting for their turn (turns.ts): non-zero only while ingest is behind. */
  readonly waiting: number;
  /**
   * Runs a QoS 1 publish through ingest now, while the embedded broker holds its PUBACK, and calls `ack`
   * once its points are durable (ack(err): they are not, and the broker refuses the publish). The
   * broker's later delivery of the same packet to the subscription is skipped.
   */
  holdAck(packet: Message, ack: (err?: Error) => void, publisher?: string): void;
  stop(): Promise<void>;
}

const TOPICS = ['devices/+/telemetry', 'devices/+/events', 'devices/+/status'] as const;
/**
 * Most of a turn of the event loop that device messages may take (turns.ts): under an overload the
 * rest of the turn reads the other connections, runs the store's flush slices and writes socket.io.
 */
const TURN_BUDGET_MS = 5;
/** A syslog collector's batches (collectors/syslog): `logs/{collector}`. */
const LOGS_FILTER = 'logs/+';
const LOGS_PREFIX = 'logs/';

interface Message {
  topic: string;
  payload: Buffer | string;
  qos?: number;
  /** The publishing connection's client id: aedes stamps it on what it hands a subscription. */
  clientId?: string;
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
  const turns = new IngestTurns(TURN_BUDGET_MS, (err) => options.logger.error({ err: (err as Error).message }, 'ingest: message handling failed'));
  const stats: IngestStats = { messages: 0, values: 0, dropped: new Map(), droppedByDevice: new Map(), logLines: 0, logLinesInvalid: 0 };

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

  // `telemetry/{collector}`: many devices' readings a message (the line protocol collector's; telemetry-batches.ts).
  const batches = telemetryBatchIngest({
    estate, sink, stats, log, partition, partitionOf, drop,
    fault: (who, topic, err) => options.logger.error({ device: who, topic, err: err.message }, 'ingest: message handling failed'),
  });

  const holdAck = (packet: Message, ack: (err?: Error) => void, publisher?: string): void => {
    if (packet.topic.startsWith(TELEMETRY_BATCH_PREFIX)) return batches.holdAck(packet, ack);
    const at = routeOf(packet.topic);
    // Only telemetry this worker owns, arriving as a Buffer it can recognise again; the rest goes the usual way.
    if (!log || !at || at.kind !== 'telemetry' || !Buffer.isBuffer(packet.payload) || (partition && partitionOf(at.device, partition.count) !== partition.index)) return ack();
    ingested.add(packet.payload);
    // The rules see the points in the device's turn (at once unless ingest is behind); only the acknowledgment waits for the disk.
    turns.run(at.device, publisher, () => {
      stats.messages++;
      durable(telemetryOf(at.device, packet), ack);
    });
  };

  const deliver = (packet: Message, done: () => void): void => {
    if (Buffer.isBuffer(packet.payload) && ingested.delete(packet.payload)) return done();
    const route = routeOf(packet.topic);
    if (!route) return done();
    const { device, kind } = route;
    if (partition && partitionOf(device, partition.count) !== partition.index) return done();
    // In its publisher's turn (turns.ts): at once, unless ingest is behind.
    // QoS 2: aedes sends PUBREC once every subscriber called back, so this one answers once the log has it.
    if (kind === 'telemetry' && packet.qos === 2) {
      return turns.run(device, packet.clientId, () => {
        stats.messages++;
        durable(telemetryOf(device, packet), (err) => {
          if (err) options.logger.error({ device, err: err.message }, 'ingest: a QoS 2 message could not be made durable');
          done();
        });
      });
    }
    turns.run(device, packet.clientId, () => onDeviceMessage(device, kind, packet), done);
  };

  /** A device's telemetry, event or status message, in its turn. */
  const onDeviceMessage = (device: string, kind: string, packet: Message): void => {
    stats.messages++;
    if (kind === 'telemetry') {
      telemetryOf(device, packet);
      return;
    }
    try {
      if (kind === 'events') onEvent(device, packet.payload);
      else onStatus(device, packet.payload);
    } catch (err) {
      // A fault downstream must not stop the stream for every other device.
      options.logger.error({ device, topic: packet.topic, err: (err as Error).message }, 'ingest: message handling failed');
    }
  };

  /** decodeCheckReport -> the sink; a malformed one is counted under `service:{id}` with its reason. */
  const onServiceCheck = (packet: Message, done: () => void): void => {
    const m = decodeCheckReport(packet.topic, packet.payload);
    const id = m instanceof Dropped ? (packet.topic.split('/')[1] ?? '?') : m.serviceId;
    // The worker that owns the service (the checks collector splits services the same way).
    if (partition && partitionOf(id, partition.count) !== partition.index) return done();
    const who = `service:${id}`;
    stats.messages++;
    try {
      if (m instanceof Dropped) dropped(who, m);
      else sink.serviceCheck?.(m);
    } catch (err) {
      options.logger.error({ topic: packet.topic, err: (err as Error).message }, 'ingest: service check result handling failed');
    }
    done();
  };

  /** decode -> validateLogs (pipeline.ts) -> the sink's logs(); a malformed batch is counted under the collector's name with its reason. */
  const onLogs = (packet: Message, done: () => void): void => {
    const collector = packet.topic.slice(LOGS_PREFIX.length);
    // The collector's batches go to one worker (the broker's ACL lets a collector publish only under its own name).
    if (partition && partitionOf(collector, partition.count) !== partition.index) return done();
    stats.messages++;
    try {
      const json = decode(packet.payload);
      const batch = json instanceof Dropped ? json : validateLogs(json);
      if (batch instanceof Dropped) dropped(collector, batch);
      else {
        stats.logLines += batch.lines.length;
        if (batch.bad > 0) {
          stats.logLinesInvalid += batch.bad;
          drop(collector, 'invalid_logs', `${batch.bad} of ${batch.lines.length + batch.bad} lines left out; ${batch.problem ?? ''}`);
        }
        if (batch.lines.length > 0) sink.logs?.(batch.lines, collector);
      }
    } catch (err) {
      options.logger.error({ collector, topic: packet.topic, err: (err as Error).message }, 'ingest: log message handling failed');
    }
    done();
  };

  const topics: { filter: string; deliver: (packet: Message, done: () => void) => void }[] = TOPICS.map((filter) => ({ filter, deliver }));
  topics.push({ filter: TELEMETRY_BATCH_FILTER, deliver: batches.deliver });
  if (sink.serviceCheck) topics.push({ filter: CHECK_REPORT_FILTER, deliver: onServiceCheck });
  if (sink.logs) topics.push({ filter: LOGS_FILTER, deliver: onLogs });
  const subs = topics.map((t) => ({ ...t, filter: options.shareGroup ? `$share/${options.shareGroup}/${t.filter}` : t.filter }));
  return Promise.all(subs.map((t) => new Promise<void>((resolve, reject) => source.subscribe(t.filter, t.deliver, (err) => (err ? reject(err) : resolve()))))).then(() => ({
    stats,
    holdAck,
    get waiting() {
      return turns.waiting;
    },
    stop: () =>
      Promise.all(subs.map((t) => new Promise<void>((resolve) => source.unsubscribe(t.filter, t.deliver, resolve)))).then(() => {
        // What waits is handled now: its broker callbacks and acknowledgments are not left hanging.
        turns.drainAll();
      }),
  }));
}
