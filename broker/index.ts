export { startBroker, MAX_CLIENT_ID_BYTES, REFUSAL_REASONS, type Broker, type BrokerOptions, type BrokerTraffic, type ClientEvent, type RefusalReason } from './broker.ts';
export { MqttAccounts, type MqttAccount, type MqttAccountView, type MqttRole } from './accounts.ts';
export { mayPublish, mayPublishFor, maySubscribe, type KindOf } from './acl.ts';
export { FrontDoor, type FrontDoorLimits } from './front-door.ts';
export { MQTT_LOGIN_LOCKS_FILE, MqttLoginGate, mqttLoginLimits, type BruteForceLimits, type MqttAuditEntry } from './login-gate.ts';
export { registerBrokerMetrics } from './metrics.ts';
export { connectExternalBroker, topicMatches, type BusPacket, type ExternalBroker, type ExternalBrokerConfig, type MqttBus } from './external.ts';
export { serveBroker } from './serve.ts';
