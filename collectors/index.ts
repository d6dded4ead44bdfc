export * from './mqtt/index.ts';
export {
  registerCollector, createCollector, collectorNames,
  type Accumulator, type Collector, type CollectorAccounts, type CollectorContext, type CollectorFactory, type CollectorPublishTarget,
} from './registry.ts';
export * from './snmp-common/index.ts';
export * from './snmp/index.ts';
export * from './traps/index.ts';
