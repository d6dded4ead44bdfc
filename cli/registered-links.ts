import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Link, type Estate, type Logger } from '../core/index.ts';

/**
 * Links added through the API (accepted discovery proposals), kept in DATA_DIR/links.json beside
 * devices.json so they survive restarts and reach `watchfloor inventory export`. The inventory file
 * stays the source of truth: a link of the same id there wins, and one naming a device no longer
 * known is left out at load (and said so).
 */
export class RegisteredLinks {
  private readonly links: Link[] = [];

  constructor(private readonly file: string) {
    if (existsSync(file)) this.links.push(...z.array(Link).parse(JSON.parse(readFileSync(file, 'utf8'))));
  }

  all(): readonly Link[] {
    return this.links;
  }

  add(link: Link): void {
    const i = this.links.findIndex((l) => l.id === link.id);
    if (i >= 0) this.links[i] = link;
    else this.links.push(link);
    this.save();
  }

  /** Removes the links naming a device (DELETE /api/v1/devices/{id}); answers their ids. */
  removeDevice(deviceId: string): string[] {
    const gone = this.links.filter((l) => l.a.device === deviceId || l.b.device === deviceId).map((l) => l.id);
    if (gone.length === 0) return gone;
    this.links.splice(0, this.links.length, ...this.links.filter((l) => !gone.includes(l.id)));
    this.save();
    return gone;
  }

  private save(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.links, null, 2));
    renameSync(tmp, this.file);
  }
}

/** Puts the links added over the API into the estate: those whose devices it knows and whose id the inventory file does not use. */
export function loadLinks(estate: Estate, links: RegisteredLinks, logger: Logger): void {
  const ids = new Set(estate.inventory.links.map((l) => l.id));
  for (const l of links.all()) {
    if (ids.has(l.id)) {
      logger.warn({ link: l.id }, 'a link added over the API is now in the inventory file; the file wins');
      continue;
    }
    const missing = [l.a.device, l.b.device].find((d) => d !== undefined && !estate.devices.has(d));
    if (missing) {
      logger.error({ link: l.id, device: missing }, 'a link added over the API names a device the inventory no longer has: left out');
      continue;
    }
    estate.addLink(l);
    ids.add(l.id);
  }
}
