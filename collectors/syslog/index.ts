/** The syslog collector: RFC 3164/5424 lines with CEF, LEEF and JSON payloads over UDP, TCP and TLS, parsed into LogLines. */
export { startSyslogReceiver, DROP_REASONS, type SyslogReceiver, type SyslogReceiverOptions, type SyslogStats, type SyslogOrigin, type SyslogTransport, type SyslogTlsOptions, type SyslogDropReason } from './receiver.ts';
export { DEFAULT_SYSLOG_LIMITS, SourceRateLimiter, type SyslogLimits } from './limits.ts';
export { parseSyslogLine, type ParseContext } from './parse.ts';
export { FrameDecoder, type Frame, type FrameDecoderOptions } from './framing.ts';
export { decodeFrame, type DecodedFrame } from './decode.ts';
export { parseCef, parseCefExtension, type CefEvent } from './cef.ts';
export { parseLeef, type LeefEvent } from './leef.ts';
export { flattenJson } from './json.ts';
export { decodePri, readPri, DEFAULT_PRIORITY, type Priority } from './pri.ts';
export { syslogPortsFromEnv, type SyslogPorts } from './ports.ts';
export { SyslogCollector, SYSLOG_COLLECTOR_ACCOUNT, logsTopic, type SyslogCollectorOptions, type SyslogCollectorStats } from './collector.ts';
export { SenderMap, plainAddress, type MappedBy } from './senders.ts';
export { registerSyslogMetrics } from './metrics.ts';

import { registerCollector } from '../registry.ts';
import { SyslogCollector } from './collector.ts';

registerCollector('syslog', (context) => SyslogCollector.fromContext(context));
