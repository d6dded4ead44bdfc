import snmp, { type Varbind } from 'net-snmp';
import type { DeviceSnmp } from '../../core/index.ts';

/** Where a simulated device sends its notifications. */
export interface TrapTarget {
  host: string;
  port: number;
  version?: '2c' | '3';
  community?: string;
  v3?: NonNullable<DeviceSnmp['v3']>;
}

/** Sends one SNMPv2c/v3 trap (or an inform, acknowledged by the receiver) from a simulated device. */
export function sendTrap(target: TrapTarget, trapOid: string, varbinds: Varbind[], o: { inform?: boolean; upTime?: number } = {}): Promise<void> {
  const options = { port: target.port, trapPort: target.port, retries: 1, timeout: 2000 };
  const session =
    target.version === '3' && target.v3
      ? snmp.createV3Session(target.host, {
          name: target.v3.user,
          level: target.v3.privKey ? snmp.SecurityLevel.authPriv : snmp.SecurityLevel.authNoPriv,
          authProtocol: snmp.AuthProtocols[target.v3.authProtocol ?? 'sha'],
          authKey: target.v3.authKey,
          privProtocol: snmp.PrivProtocols[target.v3.privProtocol ?? 'aes'],
          privKey: target.v3.privKey,
        }, options)
      : snmp.createSession(target.host, target.community ?? 'public', { ...options, version: snmp.Version2c });
  session.on('error', () => undefined);
  return new Promise<void>((resolve, reject) => {
    const done = (err: Error | null): void => {
      session.close();
      if (err) reject(err);
      else resolve();
    };
    if (o.inform) session.inform(trapOid, varbinds, { upTime: o.upTime }, done);
    else session.trap(trapOid, varbinds, { upTime: o.upTime }, done);
  });
}
