import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Device, DeviceSnmp } from './inventory.ts';

/** scrypt cost: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), about 50 ms on this class of machine. */
const PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function derive(secret: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...p, maxmem: 128 * p.N * p.r * 2 };
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** Hashes a password or device secret as `scrypt$N$r$p$salt$hash` (base64), never reversible. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** True when `secret` matches `stored`; compares in constant time; a malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(secret, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** A random secret for generated passwords and tokens: 24 bytes, URL-safe. */
export function randomSecret(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

/** An SNMP block as the API shows it: every secret replaced by whether it is set (secrets are write-only). */
export interface PublicDeviceSnmp extends Omit<DeviceSnmp, 'community' | 'v3'> {
  communitySet: boolean;
  v3?: Omit<NonNullable<DeviceSnmp['v3']>, 'authKey' | 'privKey'> & { authKeySet: boolean; privKeySet: boolean };
}

/** A device without its secrets: the shape every API answer and socket event uses. */
export type PublicDevice = Omit<Device, 'snmp'> & { snmp?: PublicDeviceSnmp };

/** Removes a device's SNMP community and v3 keys, keeping whether each is set. */
export function redactDevice(device: Device): PublicDevice {
  const { snmp: full, ...bare } = device;
  if (!full) return bare;
  const { community, v3, ...rest } = full;
  const snmp: PublicDeviceSnmp = { ...rest, communitySet: community !== undefined };
  if (v3) {
    const { authKey, privKey, ...v3rest } = v3;
    snmp.v3 = { ...v3rest, authKeySet: authKey !== undefined && authKey !== '', privKeySet: privKey !== undefined && privKey !== '' };
  }
  return { ...bare, snmp };
}
