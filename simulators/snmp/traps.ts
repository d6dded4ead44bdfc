import snmp, { type Varbind } from 'net-snmp';
import { usmUser, type SnmpV3Credentials } from '../../collectors/index.ts';

/** Where a simulated device sends its notifications. */
export interface TrapTarget {
  host: string;
  port: number;
  version?: '2c' | '3';
  community?: string;
  v3?: SnmpV3Credentials;
}

/** Sends one SNMPv2c/v3 trap (or an inform, acknowledged by the receiver) from a simulated device. */
export function sendTrap(target: TrapTarget, trapOid: string, varbinds: Varbind[], o: { inform?: boolean; upTime?: number } = {}): Promise<void> {
  const options = { port: target.port, trapPort: target.port, retries: 1, timeout: 2000 };
  const session =
    target.version === '3' && target.v3
      ? snmp.createV3Session(target.host, usmUser(target.v3), options)
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
