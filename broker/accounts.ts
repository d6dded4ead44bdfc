import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { hashSecret, tightenSecretFile, verifySecret, writeSecretFile } from '../core/index.ts';

/**
 * An MQTT identity. A device account's username is its device id and it publishes only for itself;
 * a collector account (SNMP poller, trap receiver, simulator fleet) publishes for the devices it owns,
 * listed by id or by kind; an admin account may read `$SYS` and watch every device's topics.
 */
export const MqttAccount = z.strictObject({
  username: z.string().min(1),
  hash: z.string(),
  role: z.enum(['device', 'collector', 'admin']),
  /** Collector accounts: the device ids it may publish for, or "*" for every device in the inventory. */
  devices: z.union([z.literal('*'), z.array(z.string())]).optional(),
  /** Collector accounts: device kinds (ups, pdu, sensor...) it may publish for, besides `devices`. */
  kinds: z.array(z.string()).optional(),
  /** Collector accounts: may publish service check results, `services/{serviceId}/checks/{checkKey}` (the checks collector). */
  services: z.boolean().optional(),
  /** Collector accounts: may publish log lines as `logs/{its own username}` (the syslog collector). */
  logs: z.boolean().optional(),
  /** Collector accounts: may publish telemetry batches of any inventory device as `telemetry/{its own username}` (the line protocol collector). */
  telemetryBatches: z.boolean().optional(),
});
export type MqttAccount = z.infer<typeof MqttAccount>;
export type MqttRole = MqttAccount['role'];

/** What an operator sees of an account: never the hash. */
export type MqttAccountView = Omit<MqttAccount, 'hash'>;

const AccountsFile = z.strictObject({ accounts: z.array(MqttAccount) });

/**
 * The broker's credential book, kept hashed in one JSON file under the data directory. The file is
 * re-read when another process (the `watchfloor devices` CLI) changes it, so rotation needs no restart;
 * `onChange` tells the broker whose credentials changed so it can drop their open sessions.
 */
export class MqttAccounts {
  private byName = new Map<string, MqttAccount>();
  private mtimeMs = 0;
  private readonly listeners: ((username: string) => void)[] = [];
  private readonly verified = new Map<string, Buffer>();
  private readonly cacheKey = randomBytes(32);

  constructor(private readonly file?: string) {
    this.reload();
  }

  get(username: string): MqttAccount | undefined {
    this.reload();
    return this.byName.get(username);
  }

  /** Every account without its hash, sorted by username. */
  list(): MqttAccountView[] {
    this.reload();
    return [...this.byName.values()].map(({ hash: _hash, ...view }) => view).sort((a, b) => a.username.localeCompare(b.username));
  }

  /** Calls `fn(username)` after an account is changed or removed, here or by another process. */
  onChange(fn: (username: string) => void): void {
    this.listeners.push(fn);
  }

  /** Sets (or rotates) a device's password; the next CONNECT must use the new one. */
  async setDevicePassword(deviceId: string, password: string): Promise<void> {
    this.put({ username: deviceId, hash: await hashSecret(password), role: 'device' });
  }

  /** Sets (or rotates) a collector account: it publishes for `devices` (ids or "*") and any device of `kinds`. */
  async setCollector(username: string, password: string, devices: '*' | string[], kinds?: string[]): Promise<void> {
    this.put({ username, hash: await hashSecret(password), role: 'collector', devices, ...(kinds && kinds.length > 0 ? { kinds } : {}) });
  }

  /** Sets (or rotates) the checks collector's account: it publishes service check results only, for no device. */
  async setServiceChecker(username: string, password: string): Promise<void> {
    this.put({ username, hash: await hashSecret(password), role: 'collector', devices: [], services: true });
  }

  /** Sets (or rotates) the syslog collector's account: it publishes log lines on `logs/{username}` only, for no device. */
  async setLogPublisher(username: string, password: string): Promise<void> {
    this.put({ username, hash: await hashSecret(password), role: 'collector', devices: [], logs: true });
  }

  /** Sets (or rotates) the line protocol collector's account: telemetry batches on `telemetry/{username}` only (ingest takes inventory devices only). */
  async setTelemetryBatchPublisher(username: string, password: string): Promise<void> {
    this.put({ username, hash: await hashSecret(password), role: 'collector', devices: [], telemetryBatches: true });
  }

  /** Sets (or rotates) an admin account: `$SYS` and read access to every device topic. */
  async setAdmin(username: string, password: string): Promise<void> {
    this.put({ username, hash: await hashSecret(password), role: 'admin' });
  }

  /** Removes an account; true when it existed. */
  remove(username: string): boolean {
    this.reload();
    if (!this.byName.delete(username)) return false;
    this.save();
    this.changed(username);
    return true;
  }

  /**
   * The account when the password matches, otherwise undefined. A password that verified once is
   * remembered as an HMAC under a per-process random key (memory only, forgotten when the account
   * changes), so a fleet reconnecting after an outage costs one scrypt per device, not one per CONNECT.
   */
  async authenticate(username: string, password: string): Promise<MqttAccount | undefined> {
    const account = this.get(username);
    if (!account) return undefined;
    const mac = createHmac('sha256', this.cacheKey).update(`${account.hash}\0${password}`).digest();
    const known = this.verified.get(username);
    if (known && timingSafeEqual(known, mac)) return account;
    if (!(await verifySecret(password, account.hash))) return undefined;
    if (this.verified.size >= 100_000) this.verified.clear();
    this.verified.set(username, mac);
    return account;
  }

  private put(account: MqttAccount): void {
    this.reload();
    this.byName.set(account.username, account);
    this.save();
    this.changed(account.username);
  }

  private changed(username: string): void {
    this.verified.delete(username);
    for (const fn of this.listeners) fn(username);
  }

  private save(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    // Write then rename, so a crash mid-write never leaves a half file of credentials.
    writeSecretFile(this.file, JSON.stringify({ accounts: [...this.byName.values()] }, null, 2));
    this.mtimeMs = statSync(this.file).mtimeMs;
  }

  /** Picks up a file written by another process; reports the accounts whose hash or grants changed. */
  private reload(): void {
    if (!this.file || !existsSync(this.file)) return;
    const mtimeMs = statSync(this.file).mtimeMs;
    if (mtimeMs === this.mtimeMs) return;
    this.mtimeMs = mtimeMs;
    tightenSecretFile(this.file);
    const next = new Map<string, MqttAccount>();
    for (const a of AccountsFile.parse(JSON.parse(readFileSync(this.file, 'utf8'))).accounts) next.set(a.username, a);
    const before = this.byName;
    this.byName = next;
    for (const name of new Set([...before.keys(), ...next.keys()])) {
      if (JSON.stringify(before.get(name)) !== JSON.stringify(next.get(name)) && before.size > 0) this.changed(name);
    }
  }
}
