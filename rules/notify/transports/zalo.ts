import type { Receiver } from '../schema.ts';
import { plainText, postJson, type Site, type Transport } from './site.ts';

/** Zalo's limit on a text message (characters). */
const ZALO_TEXT_MAX = 2000;

/**
 * Zalo Official Account message API v3: `POST <apiUrl>/v3.0/oa/message/cs` with the OA's
 * `access_token` header, `{recipient: {user_id}, message: {text}}`. Zalo answers 200 with
 * `{error: 0}` on success and a non-zero `error` otherwise (an expired token, a user outside the
 * 7-day window of customer-service messages): that is a failed delivery, retried like any other.
 */
export function zaloTransport(z: NonNullable<Receiver['zalo']>, site: Site): Transport {
  return async (n) => {
    const text = plainText(n, site);
    const answer = (await postJson(`${z.apiUrl.replace(/\/+$/, '')}/v3.0/oa/message/cs`, { recipient: { user_id: z.userId }, message: { text: text.length > ZALO_TEXT_MAX ? `${text.slice(0, ZALO_TEXT_MAX - 1)}…` : text } }, { access_token: z.accessToken })) as { error?: number; message?: string } | undefined;
    if (answer?.error !== 0) throw new Error(`zalo refused: ${answer?.error ?? '?'} ${answer?.message ?? ''}`.trim());
  };
}
