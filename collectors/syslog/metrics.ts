import { Counter, Gauge, type Registry } from 'prom-client';
import { DROP_REASONS, type SyslogTransport } from './receiver.ts';
import type { SyslogCollectorStats } from './collector.ts';

const TRANSPORTS: readonly SyslogTransport[] = ['udp', 'tcp', 'tls'];

/**
 * The syslog collector's figures on the product's /metrics: frames, bytes and lines received, what was
 * dropped per reason (every reason from the first scrape, at 0), lines cut or with bad UTF-8, unknown
 * senders, connections and the queue. Running totals are set at scrape time from the receivers' stats.
 */
export function registerSyslogMetrics(registry: Registry, stats: () => SyslogCollectorStats): void {
  const counter = (name: string, help: string, read: (s: SyslogCollectorStats) => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read(stats())); } });
  };
  new Counter({
    name: 'watchfloor_syslog_frames_total', help: 'syslog frames (datagrams or stream frames) received, by transport', labelNames: ['transport'], registers: [registry],
    collect() {
      this.reset();
      const s = stats();
      for (const t of TRANSPORTS) this.inc({ transport: t }, s.received[t]);
    },
  });
  new Counter({
    name: 'watchfloor_syslog_dropped_total', help: 'syslog frames dropped, by reason (rate_limited, queue_full, garbage, idle_timeout, incomplete_frame, handler_error)', labelNames: ['reason'], registers: [registry],
    collect() {
      this.reset();
      const s = stats();
      for (const r of DROP_REASONS) this.inc({ reason: r }, s.dropped[r]);
    },
  });
  counter('watchfloor_syslog_lines_total', 'syslog lines parsed and handed on', (s) => s.lines);
  counter('watchfloor_syslog_received_bytes_total', 'bytes of syslog frames received', (s) => s.bytes);
  counter('watchfloor_syslog_truncated_total', 'syslog lines longer than the frame limit (64 KiB), kept cut', (s) => s.truncated);
  counter('watchfloor_syslog_invalid_utf8_total', 'syslog lines with invalid UTF-8, kept with U+FFFD', (s) => s.invalidUtf8);
  counter('watchfloor_syslog_unknown_sender_lines_total', 'syslog lines from senders no inventory device matches (kept, marked)', (s) => s.unknownSenderLines);
  counter('watchfloor_syslog_published_lines_total', 'syslog lines published onto the broker', (s) => s.published.lines);
  counter('watchfloor_syslog_connections_refused_total', 'syslog TCP/TLS connections refused at the connection limits', (s) => s.connections.refused);
  counter('watchfloor_syslog_tls_failures_total', 'syslog TLS handshakes that failed', (s) => s.connections.tlsFailed);
  new Gauge({ name: 'watchfloor_syslog_connections', help: 'open syslog TCP/TLS connections', registers: [registry], collect() { this.set(stats().connections.open); } });
  new Gauge({ name: 'watchfloor_syslog_queue_lines', help: 'syslog lines waiting to be parsed', registers: [registry], collect() { this.set(stats().queue.length); } });
}
