import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger, MqttConfig } from '../../core/index.ts';
import type { MqttAccount, MqttAccounts } from '../accounts.ts';
import type { KindOf } from '../acl.ts';
import { sourceOf, type Connections } from '../connections.ts';
import type { FrontDoor } from '../front-door.ts';
import { certificateIdentity, judgeClientId, SourceMemory } from '../identity.ts';
import type { MqttLoginGate } from '../login-gate.ts';
import type { Refusals } from '../refusals.ts';

/** Client ids longer than this (in UTF-8 bytes) are refused, identifier rejected [MQTT-3.1.3-5] lets a server choose. */
export const MAX_CLIENT_ID_BYTES = 256;

// aedes' AuthenticateError carries the CONNACK return code [MQTT-3.2.2.3].
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

type PreConnect = NonNullable<AedesOptions['preConnect']>;
type Authenticate = NonNullable<AedesOptions['authenticate']>;
type Done = Parameters<Authenticate>[3];

export interface ConnectDeps {
  cfg: MqttConfig;
  accounts: MqttAccounts;
  kindOf: KindOf;
  door: FrontDoor;
  logins: MqttLoginGate;
  report: Refusals;
  book: Connections;
  logger: Logger;
}

/** The CONNECT's two hooks: `preConnect` notes the packet, `authenticate` decides who it is and lets it in, or not. */
export function connectHooks(d: ConnectDeps): { preConnect: PreConnect; authenticate: Authenticate } {
  const { cfg, accounts, kindOf, door, logins, report, book, logger } = d;
  const sourcesSeen = new SourceMemory();
  const isDevice = (id: string): boolean => kindOf(id) !== undefined || accounts.get(id)?.role === 'device';

  /** A certificate name that is an account, or a known device (which then logs in as itself). */
  const certificateAccount = (name: string): MqttAccount | undefined =>
    accounts.get(name) ?? (kindOf(name) !== undefined ? { username: name, hash: '', role: 'device' } : undefined);

  /** Everything after the password (or certificate) checked out: client id rules, then let it in. */
  function admitAccount(client: Client, account: MqttAccount, source: string, done: Done): void {
    const holder = book.clientsById()[client.id];
    const holderAccount = holder && !holder.closed ? book.accountOf.get(holder) : undefined;
    if (holderAccount && holderAccount.username !== account.username) {
      // [MQTT-3.1.4-2] would let the newcomer take the session over; across identities that is a way to kick a device off.
      report.refuse('client_id_in_use', { source, username: account.username, clientId: client.id, detail: `client id held by "${holderAccount.username}"` });
      return done(authError('client id in use by another identity', IDENTIFIER_REJECTED), false);
    }
    if (holderAccount) {
      book.takenOver.add(holder as Client);
      report.securityEvent({ type: 'client_takeover', source, username: account.username, clientId: client.id, detail: `previous connection from ${sourceOf(holder as Client)} closed` });
      logger.info({ clientId: client.id, username: account.username, source }, 'mqtt: client id taken over by a new connection');
    }
    if (account.role === 'device') {
      const verdict = judgeClientId(account.username, client.id, isDevice);
      const who = { source, username: account.username, clientId: client.id, device: account.username };
      if (verdict.kind === 'claims') {
        report.securityEvent({ type: 'client_id_claims_device', ...who, detail: `device "${account.username}" connected with the client id of device "${verdict.device}"` });
      } else if (verdict.kind === 'foreign' && cfg.strictClientId) {
        report.refuse('client_id_rejected', { ...who, detail: 'mqtt.strictClientId: the client id must start with the device id' });
        return done(authError('client id must start with the device id', IDENTIFIER_REJECTED), false);
      } else if (verdict.kind === 'foreign' && cfg.reportUnknownClientIds) {
        report.securityEvent({ type: 'unknown_client_id', ...who, detail: 'client id does not start with the device id' });
      }
      const before = sourcesSeen.seen(account.username, source);
      if (before) report.securityEvent({ type: 'device_new_source', ...who, detail: `first login from ${source}; seen before from ${before.join(', ')}` });
    }
    book.accountOf.set(client, account);
    // From here on the connection may send packets as large as the payload limit allows.
    book.gateOf.get(client.conn)?.loggedIn();
    done(null, true);
  }

  function preConnect(client: Client, packet: Parameters<PreConnect>[1], done: Parameters<PreConnect>[2]): void {
    book.connectOf.set(client, packet);
    // [MQTT-3.1.2-2] aedes speaks 3.1 and 3.1.1 (levels 3, 4) and answers any other level with
    // "unacceptable protocol version" (0x84 to an MQTT 5 client); a well-formed packet, so counted, not reported.
    const level = (packet as { protocolVersion?: number }).protocolVersion;
    if (level !== 3 && level !== 4) {
      book.otherProtocol.add(client);
      report.tally('unsupported_protocol', { source: sourceOf(client), clientId: packet.clientId, detail: `MQTT protocol level ${String(level)}; this broker speaks 3.1.1 (MQTT 5 devices need mqtt.external)` });
    }
    done(null, true);
  }

  function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void {
    const source = sourceOf(client);
    const keepalive = book.connectOf.get(client)?.keepalive ?? 0;
    if (logins.locked(username, source) !== undefined) {
      return done(authError('locked out after repeated failed logins', NOT_AUTHORIZED), false);
    }
    const idBytes = Buffer.byteLength(client.id ?? '', 'utf8');
    if (idBytes > MAX_CLIENT_ID_BYTES) {
      report.refuse('client_id_too_long', { source, username, clientId: client.id.slice(0, 64), detail: `client id of ${idBytes} bytes; at most ${MAX_CLIENT_ID_BYTES}` }, true);
      return done(authError('client id too long', IDENTIFIER_REJECTED), false);
    }
    if (keepalive === 0 || keepalive > cfg.maxKeepAliveSeconds) {
      report.refuse('keepalive_refused', { source, username, clientId: client.id, detail: `keep alive ${keepalive} s; 1..${cfg.maxKeepAliveSeconds} s accepted` });
      return done(authError('keep alive out of range', NOT_AUTHORIZED), false);
    }
    const cert = certificateIdentity(client.conn, certificateAccount);
    if (cert) {
      if (!cert.account) {
        report.refuse('unknown_certificate', { source, username, detail: `certificate names ${cert.names.join(', ') || 'nothing'}` });
        return done(authError('certificate names no known identity', NOT_AUTHORIZED), false);
      }
      if (username && username !== cert.account.username) {
        report.refuse('certificate_mismatch', { source, username, detail: `certificate names "${cert.account.username}"` });
        return done(authError('username does not match the certificate', NOT_AUTHORIZED), false);
      }
      logins.succeeded(cert.account, source, 'certificate');
      return admitAccount(client, cert.account, source, done);
    }
    if (!username || !password) {
      report.refuse('anonymous', { source, username, clientId: client.id });
      return done(authError('anonymous clients are not accepted', NOT_AUTHORIZED), false);
    }
    if (door.banned(`${username}@${source}`) !== undefined) {
      report.refuse('banned', { source, username }, true);
      return done(authError('banned for repeated denials', NOT_AUTHORIZED), false);
    }
    accounts.authenticate(username, password.toString('utf8')).then(
      (account) => {
        if (!account) {
          logins.failed(username, source, client.id, accounts.get(username));
          return done(authError('bad username or password', BAD_USERNAME_OR_PASSWORD), false);
        }
        logins.succeeded(account, source, 'password');
        admitAccount(client, account, source, done);
      },
      (err: Error) => {
        logger.error({ err: err.message, username }, 'mqtt: credential check failed');
        done(authError('server unavailable', SERVER_UNAVAILABLE), false);
      },
    );
  }

  return { preConnect, authenticate };
}

/** Rotation or removal without a restart: whoever is logged in with the old credentials logs in again. */
export function closeSessionsOnCredentialChange(accounts: MqttAccounts, book: Connections, logger: Logger): void {
  accounts.onChange((username) => {
    for (const client of Object.values(book.clientsById())) {
      if (client && book.accountOf.get(client)?.username === username) {
        logger.info({ username, clientId: client.id }, 'mqtt: credentials changed; closing the session');
        client.close();
      }
    }
  });
}
