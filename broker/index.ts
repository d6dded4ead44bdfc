export { startBroker, type Broker, type BrokerOptions, type ClientEvent, type RefusalReason } from './broker.ts';
export { MqttAccounts, mayPublishFor, type MqttAccount } from './accounts.ts';
