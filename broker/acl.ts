import type { MqttAccount } from './accounts.ts';

/** Topics a device (or a collector on its behalf) may publish: `devices/{id}/telemetry|events|status|commands/{c}/result`. */
const DEVICE_PUBLISH = /^devices\/([^/]+)\/(?:telemetry|events|status|commands\/[^/]+\/result)$/;
/** Service check results (rules/services `serviceCheckTopic`): only a collector account marked `services` publishes them. */
const SERVICE_CHECK_PUBLISH = /^services\/[^/+#]+\/checks\/[^/+#]+$/;
/** Log lines of a syslog collector (collectors/syslog): `logs/{collector account}`, one level. */
const LOGS_PUBLISH = /^logs\/([^/+#]+)$/;
/** Telemetry batches of many devices (collectors/line-protocol batch.ts): `telemetry/{collector account}`, one level. */
const TELEMETRY_BATCH_PUBLISH = /^telemetry\/([^/+#]+)$/;
/** A device listens to its own commands only: `devices/{id}/commands/#`, or one level with `+`, or one command. */
const COMMANDS_SUBSCRIBE = /^devices\/([^/+#]+)\/commands\/(?:#|\+|[^/+#]+)$/;

/** Looks up a device's kind in the inventory; undefined for an unknown device. */
export type KindOf = (deviceId: string) => string | undefined;

/** May this account publish under `devices/{deviceId}/`? */
export function mayPublishFor(account: MqttAccount, deviceId: string, kindOf: KindOf = () => undefined): boolean {
  if (account.role === 'device') return account.username === deviceId;
  if (account.role === 'admin') return false;
  if (account.devices === '*' || (account.devices?.includes(deviceId) ?? false)) return true;
  const kind = account.kinds && account.kinds.length > 0 ? kindOf(deviceId) : undefined;
  return kind !== undefined && (account.kinds?.includes(kind) ?? false);
}

/** May this account publish to `topic`? Admins are observers: they publish nothing. */
export function mayPublish(account: MqttAccount, topic: string, kindOf?: KindOf): boolean {
  // Only a collector account marked `logs`, and only under its own name: no device, admin or other collector speaks for it.
  if (topic.startsWith('logs/')) return account.role === 'collector' && account.logs === true && LOGS_PUBLISH.exec(topic)?.[1] === account.username;
  // Only a collector account marked `telemetryBatches` (it speaks for any inventory device), only under its own name.
  if (topic.startsWith('telemetry/')) return account.role === 'collector' && account.telemetryBatches === true && TELEMETRY_BATCH_PUBLISH.exec(topic)?.[1] === account.username;
  if (topic.startsWith('services/')) return account.role === 'collector' && account.services === true && SERVICE_CHECK_PUBLISH.test(topic);
  const match = DEVICE_PUBLISH.exec(topic);
  return match !== null && mayPublishFor(account, match[1] ?? '', kindOf);
}

/**
 * May this account subscribe to `filter`? Devices: only their own commands, with no wildcard in the
 * device level. Collectors: commands of the devices they publish for (`+` only when they own every device).
 * Admins: anything, including `$SYS/#` [MQTT-4.7.2-1]; nobody else sees `$SYS`.
 */
export function maySubscribe(account: MqttAccount, filter: string, kindOf?: KindOf): boolean {
  if (account.role === 'admin') return !filter.startsWith('$') || filter.startsWith('$SYS/') || filter === '$SYS';
  if (filter.startsWith('$')) return false;
  if (account.role === 'collector' && account.devices === '*' && /^devices\/\+\/commands\/(?:#|\+)$/.test(filter)) return true;
  const id = COMMANDS_SUBSCRIBE.exec(filter)?.[1];
  if (id === undefined) return false;
  return account.role === 'device' ? id === account.username : mayPublishFor(account, id, kindOf);
}
