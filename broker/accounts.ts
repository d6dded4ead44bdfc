import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { hashSecret, verifySecret } from '../core/index.ts';

/**
 * An MQTT identity. A device account's username is its device id and it publishes only for itself;
 * a collector account (SNMP poller, trap receiver, simulator fleet) publishes for the devices it owns.
 */
export const MqttAccount = z.strictObject({
  username: z.string().min(1),
  hash: z.string(),
  role: z.enum(['device', 'collector']),
  /** Collector accounts: the device ids it may publish for, or "*" for every device in the inventory. */
  devices: z.union([z.literal('*'), z.array(z.string())]).optional(),
});
export type MqttAccount = z.infer<typeof MqttAccount>;

const AccountsFile = z.strictObject({ accounts: z.array(MqttAccount) });

/** The broker's credential book, kept hashed in one JSON file under the data directory. */
export class MqttAccounts {
  private readonly byName = new Map<string, MqttAccount>();

  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      for (const a of AccountsFile.parse(JSON.parse(readFileSync(file, 'utf8'))).accounts) this.byName.set(a.username, a);
    }
  }

  get(username: string): MqttAccount | undefined {
    return this.byName.get(username);
  }

  /** Sets (or rotates) a device's password; the next CONNECT must use the new one. */
  async setDevicePassword(deviceId: string, password: string): Promise<void> {
    this.put({ username: deviceId, hash: await hashSecret(password), role: 'device' });
  }

  async setCollector(username: string, password: string, devices: '*' | string[]): Promise<void> {
    this.put({ username, hash: await hashSecret(password), role: 'collector', devices });
  }

  /** The account when the password matches, otherwise undefined. */
  async authenticate(username: string, password: string): Promise<MqttAccount | undefined> {
    const account = this.byName.get(username);
    if (!account) return undefined;
    return (await verifySecret(password, account.hash)) ? account : undefined;
  }

  private put(account: MqttAccount): void {
    this.byName.set(account.username, account);
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so a crash mid-write never leaves a half file of credentials.
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ accounts: [...this.byName.values()] }, null, 2), { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

/** May this account publish under `devices/{deviceId}/`? */
export function mayPublishFor(account: MqttAccount, deviceId: string): boolean {
  if (account.role === 'device') return account.username === deviceId;
  return account.devices === '*' || (account.devices?.includes(deviceId) ?? false);
}
