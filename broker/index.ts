export { startBroker, type Broker, type BrokerOptions, type RefusalReason, type SecurityEvent } from './broker.ts';
export { MqttAccounts, mayPublishFor, type MqttAccount } from './accounts.ts';
