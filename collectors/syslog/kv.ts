/*
 * key=value pairs inside free text: what sshd(pam_unix) (`rhost=218.188.2.4 user=root`), FortiGate
 * (`devname="FGT-1" action="Add"`) and many appliances write. Taken as fields so a rule can name
 * them; the message keeps the text unchanged. Bounded: at most MAX_PAIRS pairs per line.
 */
const PAIR = /(?:^|[\s,;])([A-Za-z_][A-Za-z0-9_.-]{0,63})=("(?:[^"\\]|\\.){0,2048}"|'[^']{0,2048}'|[^\s,;"']*)/g;
const MAX_PAIRS = 128;

/** Adds the key=value pairs of `text` to `fields`, never overwriting a field already set. */
export function addKeyValuePairs(text: string, fields: Record<string, string | number>): void {
  let n = 0;
  PAIR.lastIndex = 0;
  for (let m = PAIR.exec(text); m && n < MAX_PAIRS; m = PAIR.exec(text), n++) {
    const key = m[1] as string;
    let value = m[2] ?? '';
    if (value.startsWith('"')) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (value.startsWith("'")) value = value.slice(1, -1);
    if (!Object.hasOwn(fields, key)) fields[key] = value;
  }
}
