export * from './mqtt/index.ts';
export {
  registerCollector, createCollector, collectorNames,
  type Accumulator, type Collector, type CollectorAccounts, type CollectorContext, type CollectorFactory, type CollectorPublishTarget, type ServiceChecks, type ServiceChecksEntry,
} from './registry.ts';
export * from './checks/index.ts';
export * from './snmp-common/index.ts';
export * from './snmp/index.ts';
export * from './syslog/index.ts';
export * from './traps/index.ts';
export * from './line-protocol/index.ts';
export * from './discovery/index.ts';
