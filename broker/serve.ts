import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Estate, type Config, type Inventory, type Logger } from '../core/index.ts';
import { MqttAccounts } from './accounts.ts';
import { startBroker, type Broker } from './broker.ts';

/**
 * Runs only the broker from the product's config (`watchfloor start --role broker`): one node of a broker
 * cluster when `mqtt.persistence` is `redis`, with the same accounts file (`{dataDir}/mqtt-accounts.json`,
 * shared or copied between nodes) and the inventory for collector grants by kind. Its security events
 * are logged, and forwarded through the cluster to the nodes that run the rules (`--role all`).
 */
export async function serveBroker(options: { config: Config; inventory: Inventory; logger: Logger }): Promise<Broker> {
  const { config, logger } = options;
  if (config.mqtt.external) throw new Error('mqtt.external is set: this config uses an external broker, so there is no broker role to run');
  mkdirSync(config.dataDir, { recursive: true });
  const estate = new Estate(options.inventory);
  return startBroker({
    mqtt: config.mqtt,
    dataDir: config.dataDir,
    accounts: new MqttAccounts(join(config.dataDir, 'mqtt-accounts.json')),
    kindOf: (id) => estate.devices.get(id)?.kind,
    logger,
    onSecurityEvent: (event) => logger.info({ securityEvent: event }, `mqtt: security event ${event.type}`),
    forwardSecurityEvents: true,
  });
}
