/*
 * From line protocol points to Watchfloor readings (README "Metric names"): the device from a tag, the
 * metric `<measurement>.<field>` (with the instance between them when the measurement has one), numbers
 * as they are, booleans as 1/0; strings cannot be stored (the store keeps numbers) and are counted.
 */
import type { FieldValue, LinePoint } from './parse.ts';

/** Why a point or a value was not handed on; each is counted and named in the answer. */
export type Refusal = 'no_device_tag' | 'bad_device_id' | 'unknown_device' | 'type_conflict' | 'beyond_retention' | 'bad_metric_name' | 'string_field';

/** InfluxDB's field types: a field keeps the type it was first written with (a change is a conflict). */
const TYPE_NAME: Record<FieldValue['type'], string> = { float: 'float', integer: 'integer', unsigned: 'unsigned', boolean: 'boolean', string: 'string' };

/** The first type seen of each measurement's field, as InfluxDB keeps it per shard; bounded, oldest forgotten. */
export class FieldTypeBook {
  /** measurement -> field -> type: no key string made per check, the hot path of a write. */
  private readonly types = new Map<string, Map<string, FieldValue['type']>>();
  /** Insertion order, for forgetting the oldest; `head` is the next to go. */
  private order: [string, string][] = [];
  private head = 0;
  private size = 0;
  private forgotten = 0;
  constructor(private readonly max = 200_000) {}

  /** Changes when the book forgets a field: until then, a field that agreed with a type still does. */
  get generation(): number {
    return this.forgotten;
  }

  /** Undefined when `type` agrees (or is the first), else InfluxDB's conflict message. */
  check(measurement: string, field: string, type: FieldValue['type']): string | undefined {
    let fields = this.types.get(measurement);
    const known = fields?.get(field);
    if (known === undefined) {
      if (this.size >= this.max) this.forgetOldest();
      if (!fields) this.types.set(measurement, (fields = new Map()));
      fields.set(field, type);
      this.order.push([measurement, field]);
      this.size++;
      return undefined;
    }
    if (known === type) return undefined;
    return `field type conflict: input field "${field}" on measurement "${measurement}" is type ${TYPE_NAME[type]}, already exists as type ${TYPE_NAME[known]}`;
  }

  private forgetOldest(): void {
    const [measurement, field] = this.order[this.head++] as [string, string];
    const fields = this.types.get(measurement);
    fields?.delete(field);
    if (fields?.size === 0) this.types.delete(measurement);
    this.size--;
    this.forgotten++;
    if (this.head >= 65_536) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }
}

const METRIC_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** Instance values that mean the whole (Telegraf's `cpu-total`): no instance in the name. */
const WHOLE = new Set(['cpu-total', 'total', '_total']);

/** A name part: characters outside `[A-Za-z0-9_]` become `_`; `/` alone (a root mount) is `root`. */
function part(s: string): string {
  if (s === '/') return 'root';
  const p = s.replace(/^\/+/, '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  return p === '' ? '_' : p;
}

/** The Watchfloor metric of one field of a line: `cpu.usage_idle`, `disk.root.used_percent`, `net.eth0.bytes_recv`. */
export function metricOf(measurement: string, field: string, tags: Record<string, string>, instanceTags: readonly string[] | undefined): string | undefined {
  let name = part(measurement);
  for (const t of instanceTags ?? []) {
    const v = tags[t];
    if (v !== undefined && !WHOLE.has(v)) name += `.${part(v)}`;
  }
  name += `.${part(field)}`;
  if (/^[0-9]/.test(name)) name = `_${name}`;
  return name.length <= 64 && METRIC_NAME.test(name) ? name : undefined;
}

/** A line's device: the first of `deviceTags` present. */
export function deviceOf(point: LinePoint, deviceTags: readonly string[]): string | undefined {
  for (const t of deviceTags) {
    const v = point.tags[t];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The number a field stores as, or undefined for a string. */
export function numberOf(v: FieldValue): number | undefined {
  if (v.type === 'boolean') return v.value ? 1 : 0;
  if (v.type === 'string') return undefined;
  return v.value;
}
