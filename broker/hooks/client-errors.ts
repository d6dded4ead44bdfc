import type { Aedes, Client } from 'aedes';
import type { Logger } from '../../core/index.ts';
import { sourceOf, type Connections } from '../connections.ts';
import { isRefusal, type Refusals, type RefusalReason } from '../refusals.ts';

/**
 * Counts what aedes reports as a client's or a connection's error: a bad topic (`invalid_topic`), a
 * packet the parser refused (`malformed_packet`), a keep alive that ran out (`keepalive_timeout`).
 * The broker's own refusals (refusals.ts `refusal`) and CONNECTs of another protocol were counted already.
 */
export function reportClientErrors(aedes: Aedes, d: { report: Refusals; book: Connections; logger: Logger }): void {
  const { report, book, logger } = d;
  function classify(client: Client | null, err: Error): void {
    if (isRefusal(err) || (client && book.otherProtocol.has(client))) return;
    const m = err.message;
    const reason: RefusalReason | undefined = /not allowed in PUBLISH|empty topic|too many levels|Invalid topic|utf-?8/i.test(m)
      ? 'invalid_topic'
      : /Invalid|Malformed|Unknown|protocol|length|header/i.test(m)
        ? 'malformed_packet'
        : undefined;
    if (reason) report.refuse(reason, { source: client ? sourceOf(client) : undefined, clientId: client?.id, username: client ? book.accountOf.get(client)?.username : undefined, detail: m }, true);
    else logger.debug({ clientId: client?.id, err: m }, 'mqtt: client error');
  }
  aedes.on('clientError', classify);
  aedes.on('connectionError', classify);
  aedes.on('keepaliveTimeout', (client) => report.refuse('keepalive_timeout', { source: sourceOf(client), clientId: client.id, username: book.accountOf.get(client)?.username }, true));
}
