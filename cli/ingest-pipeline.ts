/*
 * The product's ingest paths, assembled from named steps. A telemetry message runs
 *
 *   identify -> decode -> validate -> tag -> store -> evaluate -> publish
 *
 * each step a function of collectors/mqtt/pipeline.ts: startMqttIngest runs the first four and hands
 * the points to the sink built here, whose write() is the last three over the product's store, rules
 * and screens. Device events, statuses and security events take the shorter paths below.
 */
import { deliverPoints, type EvaluationTime, type IngestSink } from '../collectors/index.ts';
import type { DeviceEvent, SecurityEvent } from '../core/index.ts';
import type { RuleEngine } from '../rules/index.ts';
import type { TimeSeriesStore } from '../store/index.ts';
import type { EventLog } from './event-log.ts';
import type { Fanout } from './fanout.ts';
import type { PresenceBook } from './presence.ts';
import type { ProductServices } from './services.ts';
import type { SocLogs } from './soc-logs.ts';

export interface IngestTargets {
  store: TimeSeriesStore;
  rules: RuleEngine;
  fanout: Fanout;
  presence: PresenceBook;
  events: EventLog<DeviceEvent>;
  securityEvents: EventLog<SecurityEvent>;
  /** Service check results: stored, recorded, evaluated (cli/services.ts). */
  services?: ProductServices;
  /** Log batches of the syslog collectors: stored, tailed, through Sigma (cli/soc-logs.ts). */
  logs?: SocLogs;
}

export interface IngestPaths {
  /** What startMqttIngest hands its points, events and statuses to. */
  sink: IngestSink;
  /** Every source of security events (broker, trap receiver, ops server) reports here. */
  securityEvent(e: SecurityEvent): void;
  /** Time spent evaluating rules on incoming values (rules/metrics.ts puts it on /metrics). */
  evaluationTime: EvaluationTime;
}

/** The sink and the security-event path over the product's parts. */
export function ingestPaths(t: IngestTargets): IngestPaths {
  const evaluationTime: EvaluationTime = { seconds: 0, values: 0 };
  const write = deliverPoints({
    store: t.store, rules: t.rules, alerts: t.fanout.alerts, evaluationTime, screens: t.fanout.telemetry, online: t.presence.online,
  });
  return {
    sink: {
      write,
      status: t.presence.set,
      // A device event: kept (GET /api/v1/events), then through the event rules.
      event(e: DeviceEvent): void {
        t.events.add(e);
        t.fanout.alerts(t.rules.onEvent(e, 'device'));
      },
      // services/{id}/checks/{key}, decoded by ingest (decodeCheckReport): store -> book -> state -> alerts.
      ...(t.services ? { serviceCheck: t.services.onCheck } : {}),
      // logs/{collector}, decoded by ingest (validateLogs): store -> tail -> Sigma -> alerts.
      ...(t.logs ? { logs: t.logs.onLogs } : {}),
    },
    securityEvent(e: SecurityEvent): void {
      t.securityEvents.add(e);
      t.fanout.securityEvent(e);
      t.fanout.alerts(t.rules.onEvent(e, 'security'));
    },
    evaluationTime,
  };
}
