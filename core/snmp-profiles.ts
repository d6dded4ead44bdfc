/*
 * SNMP credential profiles (the inventory's `snmpProfiles`): credentials defined once and named by
 * devices, resolved before the inventory's schema reads the devices, so every device that reaches the
 * poller carries full credentials and the defaults (port 161, version 2c) apply only to what neither
 * the device nor its profile states.
 */

type Raw = Record<string, unknown>;

const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The profile a raw `snmp` block names: `credentials`, else `profile` when it is an `snmpProfiles` entry (else a poll profile). */
function profileName(snmp: Raw, profiles: Raw): string | undefined {
  if (typeof snmp.credentials === 'string') return snmp.credentials;
  if (typeof snmp.profile === 'string' && Object.hasOwn(profiles, snmp.profile)) return snmp.profile;
  return undefined;
}

/**
 * A raw device with its `snmp` block merged over the credential profile it names (the device's own
 * keys win; `v3` merged key by key) and `credentials` set to the profile's name; unchanged otherwise.
 */
export function resolveDeviceSnmp(device: unknown, profiles: unknown): unknown {
  if (!isObject(device) || !isObject(device.snmp) || !isObject(profiles)) return device;
  const name = profileName(device.snmp, profiles);
  const profile = name === undefined ? undefined : profiles[name];
  if (name === undefined || !isObject(profile)) return device;
  const { profile: named, credentials: _credentials, ...own } = device.snmp;
  const snmp: Raw = { ...profile, ...own, credentials: name };
  // `profile` naming the credential profile is consumed here; naming a poll profile beside `credentials`, it stays.
  if (named !== undefined && named !== name) snmp.profile = named;
  if (isObject(profile.v3) && isObject(own.v3)) snmp.v3 = { ...profile.v3, ...own.v3 };
  return { ...device, snmp };
}

/** z.preprocess step of the Inventory schema: every device's credential profile resolved (a copy; the input is not changed). */
export function resolveSnmpProfiles(raw: unknown): unknown {
  if (!isObject(raw) || !isObject(raw.snmpProfiles) || !Array.isArray(raw.devices)) return raw;
  const profiles = raw.snmpProfiles;
  return { ...raw, devices: raw.devices.map((d) => resolveDeviceSnmp(d, profiles)) };
}

/** Why a parsed device's `snmp` block names a profile that is not there, with the field at fault; undefined when it is fine. */
export function unknownSnmpProfile(
  snmp: { profile?: string; credentials?: string; community?: string; v3?: object } | undefined,
  profiles: Record<string, unknown>,
): { field: 'credentials' | 'profile'; message: string } | undefined {
  if (!snmp) return undefined;
  const known = Object.keys(profiles);
  const list = known.length > 0 ? known.join(', ') : 'none defined';
  if (snmp.credentials !== undefined && !Object.hasOwn(profiles, snmp.credentials))
    return { field: 'credentials', message: `unknown SNMP credential profile "${snmp.credentials}" (snmpProfiles: ${list})` };
  // With profiles defined, a `profile` that is none of them on a device without credentials of its own is a typo, not a poll profile.
  if (snmp.profile !== undefined && snmp.credentials === undefined && known.length > 0 && snmp.community === undefined && snmp.v3 === undefined)
    return { field: 'profile', message: `unknown SNMP credential profile "${snmp.profile}" (snmpProfiles: ${list}), and the device states no community or v3 keys of its own` };
  return undefined;
}

/**
 * A resolved `snmp` block with the keys its credential profile gives left to the profile (host and
 * `credentials` kept): what a file states, so that the profile changed (a key rotated) reaches the device.
 */
export function compactDeviceSnmp<T extends { credentials?: string }>(snmp: T, profiles: Record<string, unknown>): Partial<T> {
  const profile = snmp.credentials !== undefined ? profiles[snmp.credentials] : undefined;
  if (!isObject(profile)) return snmp;
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  return Object.fromEntries(Object.entries(snmp).filter(([k, v]) => k === 'host' || k === 'credentials' || !same(v, profile[k]))) as Partial<T>;
}
