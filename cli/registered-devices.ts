import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { compactDeviceSnmp, Device, Estate, resolveDeviceSnmp, unknownSnmpProfile, type Inventory, type Logger, type SnmpCredentialProfile } from '../core/index.ts';

/** Owner read/write only: the file holds SNMP communities and v3 keys. */
const SECRET_FILE_MODE = 0o600;

/**
 * Devices registered through the API, kept beside the inventory file so they survive restarts. A
 * device naming one of the inventory's SNMP credential profiles is stored without the profile's keys
 * and resolved again at load, so a profile changed in the inventory (a key rotated) reaches it too.
 */
export class RegisteredDevices {
  private readonly devices: Device[] = [];

  constructor(private readonly file: string, private readonly profiles: Record<string, SnmpCredentialProfile> = {}) {
    if (existsSync(file)) {
      // A file written by an older version was world-readable: close it before reading its secrets.
      chmodSync(file, SECRET_FILE_MODE);
      const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
      this.devices.push(...z.array(Device).parse(Array.isArray(raw) ? raw.map((d) => resolveDeviceSnmp(d, profiles)) : raw));
    }
  }

  all(): readonly Device[] {
    return this.devices;
  }

  has(deviceId: string): boolean {
    return this.devices.some((d) => d.id === deviceId);
  }

  /** Adds a device, or replaces the one of the same id (PUT/PATCH /api/v1/devices/{id}, an import's changes). */
  add(device: Device): void {
    const i = this.devices.findIndex((d) => d.id === device.id);
    if (i >= 0) this.devices[i] = device;
    else this.devices.push(device);
    this.save();
  }

  /** Removes a device (DELETE /api/v1/devices/{id}); false when it was not registered here. */
  remove(deviceId: string): boolean {
    const i = this.devices.findIndex((d) => d.id === deviceId);
    if (i < 0) return false;
    this.devices.splice(i, 1);
    this.save();
    return true;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const stored = this.devices.map((d) => (d.snmp ? { ...d, snmp: compactDeviceSnmp(d.snmp, this.profiles) } : d));
    writeFileSync(tmp, JSON.stringify(stored, null, 2), { mode: SECRET_FILE_MODE });
    // `mode` applies only when the file is created; a tmp file left by a crash keeps its old mode.
    chmodSync(tmp, SECRET_FILE_MODE);
    renameSync(tmp, this.file);
  }
}

/** The inventory's devices and those registered through the API (DATA_DIR/devices.json); on a clash the inventory file wins. */
export function loadEstate(inventory: Inventory, registered: RegisteredDevices, logger: Logger): Estate {
  const estate = new Estate(inventory);
  for (const d of registered.all()) {
    if (estate.devices.has(d.id)) {
      logger.warn({ device: d.id }, 'a registered device is now in the inventory file; the file wins');
      continue;
    }
    const profile = unknownSnmpProfile(d.snmp, inventory.snmpProfiles);
    if (profile) logger.error({ device: d.id, field: `snmp.${profile.field}` }, `a registered device's ${profile.message}: it is not polled with working credentials until the profile is back`);
    estate.add(d);
  }
  return estate;
}
