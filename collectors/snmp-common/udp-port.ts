import { createSocket } from 'node:dgram';

/**
 * A free UDP port on `address`: net-snmp reads port 0 as "the default" (161/162), so an ephemeral
 * port is found first and handed over; the tiny race is acceptable for tests and simulators.
 */
export function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, address, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
