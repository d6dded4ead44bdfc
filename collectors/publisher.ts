/**
 * How a collector logs in to the broker and opens its MQTT connection, written once for every
 * collector that publishes (syslog, service checks, line protocol): on the embedded broker as its
 * own account with a fresh password each start, held only in memory, whose ACL lets it publish its
 * own topics and nothing else; on an external broker as the account configured for collectors.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { randomSecret, type Logger } from '../core/index.ts';
import type { CollectorAccounts, CollectorPublishTarget } from './registry.ts';

export interface PublisherLogin {
  url: string;
  username?: string;
  password?: string;
}

/** Registers `account` with a fresh password on the embedded broker (`makeAccount` picks its ACL), or takes the external broker's account. */
export async function publisherLogin(
  target: CollectorPublishTarget,
  account: string,
  makeAccount: (accounts: CollectorAccounts, username: string, password: string) => Promise<void>,
): Promise<PublisherLogin> {
  if (!('embedded' in target)) return target.external;
  const password = randomSecret();
  await makeAccount(target.embedded.accounts, account, password);
  return { url: `mqtt://127.0.0.1:${target.embedded.port}`, username: account, password };
}

/** A client id that is the account's, and this process's, and new at each start. */
export const publisherClientId = (account: string, suffix = ''): string => `${account}-${process.pid}-${randomSecret().slice(0, 6)}${suffix}`;

/**
 * One connection; resolves once connected. A first attempt that fails rejects (and closes the client);
 * errors after that are logged with `what` and mqtt.js reconnects every second.
 */
export function connectPublisher(login: PublisherLogin, clientId: string, logger: Logger, what: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(login.url, { username: login.username, password: login.password, clientId, reconnectPeriod: 1000, connectTimeout: 5000 });
    let connected = false;
    client.once('connect', () => {
      connected = true;
      resolve(client);
    });
    client.on('error', (err) => {
      if (!connected) {
        client.end(true);
        reject(err);
      } else logger.warn({ err: err.message, clientId }, `${what}: MQTT connection error`);
    });
  });
}
