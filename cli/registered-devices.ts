import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Device, Estate, type Inventory, type Logger } from '../core/index.ts';

/** Owner read/write only: the file holds SNMP communities and v3 keys. */
const SECRET_FILE_MODE = 0o600;

/** Devices registered through the API, kept beside the inventory file so they survive restarts. */
export class RegisteredDevices {
  private readonly devices: Device[] = [];

  constructor(private readonly file: string) {
    if (existsSync(file)) {
      // A file written by an older version was world-readable: close it before reading its secrets.
      chmodSync(file, SECRET_FILE_MODE);
      this.devices.push(...z.array(Device).parse(JSON.parse(readFileSync(file, 'utf8'))));
    }
  }

  all(): readonly Device[] {
    return this.devices;
  }

  add(device: Device): void {
    this.devices.push(device);
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.devices, null, 2), { mode: SECRET_FILE_MODE });
    // `mode` applies only when the file is created; a tmp file left by a crash keeps its old mode.
    chmodSync(tmp, SECRET_FILE_MODE);
    renameSync(tmp, this.file);
  }
}

/** The inventory's devices and those registered through the API (DATA_DIR/devices.json); on a clash the inventory file wins. */
export function loadEstate(inventory: Inventory, registered: RegisteredDevices, logger: Logger): Estate {
  const estate = new Estate(inventory);
  for (const d of registered.all()) {
    if (estate.devices.has(d.id)) logger.warn({ device: d.id }, 'a registered device is now in the inventory file; the file wins');
    else estate.add(d);
  }
  return estate;
}
