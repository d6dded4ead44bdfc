// Service checks (issue 16): one small interface (CheckType), a registry by name, one file per type,
// the scheduler, and the `checks` collector that runs the services' checks and publishes the results.
import { registerCollector } from '../registry.ts';
import { registerCheckType } from './check.ts';
import { ChecksCollector } from './collector.ts';
import { dnsCheck } from './dns.ts';
import { httpCheck } from './http.ts';
import { icmpCheck } from './icmp.ts';
import { snmpCheck } from './snmp.ts';
import { tcpCheck } from './tcp.ts';
import { tlsCheck } from './tls.ts';

registerCheckType(httpCheck);
registerCheckType(tlsCheck);
registerCheckType(tcpCheck);
registerCheckType(dnsCheck);
registerCheckType(icmpCheck);
registerCheckType(snmpCheck);

// The services' checks on a scheduler, each result onto the broker.
registerCollector('checks', ChecksCollector.fromContext);

export {
  CHECK_DEFAULTS,
  checkType,
  checkTypeNames,
  parseCheck,
  registerCheckType,
  runCheck,
  type CheckConfigBase,
  type CheckContext,
  type CheckPhases,
  type CheckResult,
  type CheckType,
} from './check.ts';
export { CheckScheduler, nextCheckState, systemTimerClock, SCHEDULER_DEFAULTS, type CheckSchedulerOptions, type CheckState, type OnResult, type ResultInfo, type TimerClock } from './scheduler.ts';
export { httpCheck, HTTP_DEFAULTS, type HttpCheckConfig } from './http.ts';
export { tlsCheck, TLS_DEFAULTS, type TlsCheckConfig } from './tls.ts';
export { tcpCheck, type TcpCheckConfig } from './tcp.ts';
export { dnsCheck, type DnsCheckConfig } from './dns.ts';
export { icmpCheck, parseFpingSummary, judgeFping, runFping, ICMP_DEFAULTS, type FpingHost, type IcmpCheckConfig } from './icmp.ts';
export { snmpCheck, SYS_UPTIME, type SnmpCheckConfig } from './snmp.ts';
export { parseJsonPath, readJsonPath } from './json-path.ts';
export { CheckReport, checkReportRoute, checkReportTopic, CHECK_REPORT_FILTER } from './report.ts';
export { ChecksCollector, CHECKS_COLLECTOR_ACCOUNT, reportOf, type ChecksCollectorOptions } from './collector.ts';
export { registerCheckMetrics } from './metrics.ts';
