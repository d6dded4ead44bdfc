/*
 * Signed, expiring tokens behind the Acknowledge / Silence 1 h buttons. Telegram's callback_data is
 * 1-64 bytes (Bot API, InlineKeyboardButton), so the token is short:
 *
 *   <action>.<issued, epoch seconds base36>.<alert id>.<MAC>
 *
 * and names the acting user without spelling them out: the MAC (HMAC-SHA256, first 96 bits) covers the
 * receiver, action, issue time, alert id and the user actingUserFor(receiver, alert, issued) answered,
 * so the same question asked at the click must give the same user. The key is made on first start,
 * under the data directory, mode 600. A redeemed token is remembered until it expires (replay refused).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeSecretFile, type Alert } from '../../core/index.ts';

export type ButtonAction = 'ack' | 'silence';
const CODE: Record<ButtonAction, string> = { ack: 'a', silence: 's' };
const ACTION_OF: Record<string, ButtonAction> = { a: 'ack', s: 'silence' };

/** Telegram's limit on callback_data (bytes). */
export const CALLBACK_DATA_MAX = 64;

export type Refusal = 'malformed' | 'tampered' | 'expired' | 'replayed' | 'unknown alert' | 'no acting user';

export type Redeemed = { ok: true; alert: Alert; action: ButtonAction; user: string } | { ok: false; reason: Refusal };

/** Reads the key, or makes one (32 random bytes, hex, mode 600) when there is none. */
function loadOrCreateKey(file: string): Buffer {
  if (existsSync(file)) {
    const hex = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex');
  }
  const key = randomBytes(32);
  writeSecretFile(file, `${key.toString('hex')}\n`);
  return key;
}

export interface CallbackOptions {
  keyFile: string;
  /** Redeemed tokens until they expire, so a replay after a restart is refused too. */
  usedFile: string;
  validForMs: number;
  actingUser: (receiver: string, alert: Alert, at: number) => string | undefined;
}

/** Issues and redeems button tokens; `now` comes in from outside. */
export class CallbackTokens {
  private readonly key: Buffer;
  private used = new Map<string, number>();

  constructor(private readonly o: CallbackOptions) {
    this.key = loadOrCreateKey(o.keyFile);
    try {
      if (existsSync(o.usedFile)) this.used = new Map(Object.entries(JSON.parse(readFileSync(o.usedFile, 'utf8')) as Record<string, number>));
    } catch {
      this.used = new Map();
    }
  }

  private mac(receiver: string, code: string, issued: number, alertId: string, user: string): string {
    return createHmac('sha256', this.key).update(['wf-notify-v1', receiver, code, String(issued), alertId, user].join('\n')).digest('base64url').slice(0, 16);
  }

  /** A token for a button, or undefined when the receiver acts as nobody or the token would not fit Telegram's 64 bytes. */
  issue(receiver: string, alert: Alert, action: ButtonAction, now: number): string | undefined {
    const issued = Math.floor(now / 1000);
    const user = this.o.actingUser(receiver, alert, issued * 1000);
    if (!user) return undefined;
    const code = CODE[action];
    const token = `${code}.${issued.toString(36)}.${alert.id}.${this.mac(receiver, code, issued, alert.id, user)}`;
    return Buffer.byteLength(token) <= CALLBACK_DATA_MAX ? token : undefined;
  }

  /** Checks a token posted back for `receiver` and spends it: signed by us, for this receiver, not expired, not used before. */
  redeem(receiver: string, token: string, now: number, alertOf: (id: string) => Alert | undefined): Redeemed {
    const m = /^([as])\.([0-9a-z]{1,10})\.([\w.:-]{1,200})\.([\w-]{16})$/.exec(token);
    if (!m) return { ok: false, reason: 'malformed' };
    const [, code, issued36, alertId, mac] = m as unknown as [string, string, string, string, string];
    const issued = parseInt(issued36, 36);
    const alert = alertOf(alertId);
    // Unknown alert or not, the MAC is checked first, so a guess learns nothing about which alerts exist.
    const user = alert ? this.o.actingUser(receiver, alert, issued * 1000) : undefined;
    const expected = this.mac(receiver, code, issued, alertId, user ?? '');
    if (!timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) return { ok: false, reason: alert ? 'tampered' : 'unknown alert' };
    if (!alert) return { ok: false, reason: 'unknown alert' };
    if (!user) return { ok: false, reason: 'no acting user' };
    const expires = issued * 1000 + this.o.validForMs;
    // A token from the future (a clock set back, or forged with a leaked key) is as good as expired.
    if (now >= expires || issued * 1000 > now + 60_000) return { ok: false, reason: 'expired' };
    this.forget(now);
    if (this.used.has(mac)) return { ok: false, reason: 'replayed' };
    this.used.set(mac, expires);
    writeSecretFile(this.o.usedFile, JSON.stringify(Object.fromEntries(this.used)));
    return { ok: true, alert, action: ACTION_OF[code] as ButtonAction, user };
  }

  private forget(now: number): void {
    for (const [mac, expires] of this.used) if (expires <= now) this.used.delete(mac);
  }
}
