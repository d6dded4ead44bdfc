import type { TLSSocket } from 'node:tls';
import type { MqttAccount } from './accounts.ts';

/**
 * What a device's client id, certificate and source address say about it. A valid
 * credential is the device: MQTT libraries make up client ids (`mosq-…`, paho's random ones), so a
 * client id that merely differs from the device id is no sign of anything. What is: a client id that
 * names another device, and a known identity arriving from an address it was never seen at.
 */

/**
 * TLS: the verified client certificate's CN, then its DNS SANs, the first that names an identity
 * (`lookup`); undefined on a plain TCP connection or without a verified certificate.
 */
export function certificateIdentity(conn: unknown, lookup: (name: string) => MqttAccount | undefined): { names: string[]; account?: MqttAccount } | undefined {
  const tls = conn as Partial<TLSSocket>;
  if (typeof tls.getPeerCertificate !== 'function' || !tls.authorized) return undefined;
  const cert = tls.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined>).CN;
  const sans = (cert.subjectaltname ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  const names = [...(Array.isArray(cn) ? cn : cn ? [cn] : []), ...sans];
  for (const name of names) {
    const account = lookup(name);
    if (account) return { names, account };
  }
  return { names };
}

/** Characters that end a device id inside a client id (`s-a01-fm-7`, `s-a01-fm_boot`, `s-a01-fm:1`). */
const SEPARATORS = new Set(['-', '_', '.', ':', '/', '@', ' ']);

/** `own`: the client id is the device's own (or starts with it); `claims`: it names another device; `foreign`: neither. */
export type ClientIdVerdict = { kind: 'own' } | { kind: 'claims'; device: string } | { kind: 'foreign' };

/**
 * Judges the client id a device account connected with. The longest device id the client id starts
 * with (up to a separator, or the whole id) decides: `s-10` claims device s-10 even for account s-1.
 */
export function judgeClientId(username: string, clientId: string, isDevice: (id: string) => boolean): ClientIdVerdict {
  const candidates = [clientId];
  for (let i = clientId.length - 1; i > 0; i--) if (SEPARATORS.has(clientId[i] as string)) candidates.push(clientId.slice(0, i));
  for (const id of candidates) {
    if (id === username) return { kind: 'own' };
    if (isDevice(id)) return { kind: 'claims', device: id };
  }
  return clientId.startsWith(username) ? { kind: 'own' } : { kind: 'foreign' };
}

/**
 * The source addresses each identity logged in from since start, a few per identity, so a known
 * device's credential used from a new address stands out. Bounded: the oldest address of an identity
 * is forgotten past `perIdentity`, and everything past `identities` (memory, not evidence).
 */
export class SourceMemory {
  private readonly sources = new Map<string, string[]>();

  constructor(
    private readonly perIdentity = 8,
    private readonly identities = 100_000,
  ) {}

  /** Records a login of `identity` from `source`; answers the addresses it was seen at before when this one is new to it. */
  seen(identity: string, source: string): string[] | undefined {
    const known = this.sources.get(identity);
    if (!known) {
      if (this.sources.size >= this.identities) this.sources.clear();
      this.sources.set(identity, [source]);
      return undefined;
    }
    if (known.includes(source)) return undefined;
    const before = [...known];
    known.push(source);
    if (known.length > this.perIdentity) known.shift();
    return before;
  }
}
