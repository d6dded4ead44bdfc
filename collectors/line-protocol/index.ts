/** The line protocol collector: InfluxDB 1.x/2.x writers (Telegraf, Node-RED, Home Assistant) onto the broker as telemetry. */
import { registerCollector } from '../registry.ts';
import { LineProtocolCollector } from './collector.ts';

export { LineProtocolCollector, LINE_PROTOCOL_COLLECTOR_ACCOUNT, type LineProtocolCollectorOptions, type LineProtocolOutcome, type LineProtocolStats, type LineProtocolWrite } from './collector.ts';
export { LineProtocolConfig, AutoRegisterRule, DEFAULT_INSTANCE_TAGS, hostMatcher, type LineProtocolConfigInput } from './config.ts';
export { deviceOf, FieldTypeBook, metricOf, numberOf, type Refusal } from './mapping.ts';
export { parseLineProtocol, parsePrecision, type FieldValue, type LineError, type LinePoint, type Precision } from './parse.ts';

registerCollector('line_protocol', (context) => LineProtocolCollector.fromContext(context));
