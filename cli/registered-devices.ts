import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Device } from '../core/index.ts';

/** Devices registered through the API, kept beside the inventory file so they survive restarts. */
export class RegisteredDevices {
  private readonly devices: Device[] = [];

  constructor(private readonly file: string) {
    if (existsSync(file)) this.devices.push(...z.array(Device).parse(JSON.parse(readFileSync(file, 'utf8'))));
  }

  all(): readonly Device[] {
    return this.devices;
  }

  add(device: Device): void {
    this.devices.push(device);
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.devices, null, 2));
    renameSync(tmp, this.file);
  }
}
