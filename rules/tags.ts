import type { DeviceTags } from '../core/index.ts';
import type { TagMatch } from './schema.ts';

/** True when the device's tags meet every `match.tags` entry (a value, or any of a list). */
export function matchesTags(match: TagMatch | undefined, device: string, tags: DeviceTags | undefined): boolean {
  if (match === undefined) return true;
  for (const key in match) {
    const want = match[key];
    const have = key === 'device' ? device : tags?.[key];
    if (have === undefined || want === undefined) return false;
    if (typeof want === 'string' ? have !== want : !want.includes(have)) return false;
  }
  return true;
}
