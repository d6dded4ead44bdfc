import { describe, expect, it } from 'vitest';
import type { Socket } from 'node:net';
import { judgeClientId, SourceMemory } from '../broker/identity.ts';
import { gateSocket, type RefusedPacket } from '../broker/packet-gate.ts';

describe('client ids: what they say about a device with a valid credential', () => {
  const devices = new Set(['s-1', 's-10', 's-a01-fm', 's-a01-fm-2']);
  const isDevice = (id: string): boolean => devices.has(id);
  it.each([
    ['s-1', 's-1', 'own'],
    ['s-1', 's-1-sensor', 'own'],
    ['s-1', 'mosq-Xk3v9QpLr2', 'foreign'],
    ['s-1', 'paho123456789', 'foreign'],
    ['s-1', 'aedes_0b3c8e3e-6f5e-4a3e-9a55-0d9f4b7b2c11', 'foreign'],
    ['s-1', 's-10', 'claims s-10'], // starts with "s-1", but names another device
    ['s-1', 's-10-boot', 'claims s-10'],
    ['s-a01-fm', 's-a01-fm-7', 'own'],
    ['s-a01-fm', 's-a01-fm-2', 'claims s-a01-fm-2'],
    ['s-a01-fm-2', 's-a01-fm-2:1', 'own'],
    ['s-a01-fm-2', 's-a01-fm', 'claims s-a01-fm'],
  ])('account %s with client id %s: %s', (username, clientId, expected) => {
    const v = judgeClientId(username, clientId, isDevice);
    expect(v.kind === 'claims' ? `claims ${v.device}` : v.kind).toBe(expected);
  });
});

describe('source memory', () => {
  it('answers the earlier addresses only the first time an identity comes from a new one, within bounds', () => {
    const m = new SourceMemory(2, 10);
    expect(m.seen('s-1', '10.0.0.1')).toBeUndefined();
    expect(m.seen('s-1', '10.0.0.1')).toBeUndefined();
    expect(m.seen('s-1', '10.0.0.2')).toEqual(['10.0.0.1']);
    expect(m.seen('s-1', '10.0.0.2')).toBeUndefined();
    expect(m.seen('s-1', '10.0.0.3')).toEqual(['10.0.0.1', '10.0.0.2']);
    // Two kept per identity: the oldest is forgotten.
    expect(m.seen('s-1', '10.0.0.1')).toEqual(['10.0.0.2', '10.0.0.3']);
    expect(m.seen('s-2', '10.0.0.9')).toBeUndefined();
  });
});

/** A stand-in socket whose reads hand out the given chunks, one per read. */
function fakeSocket(chunks: Buffer[]): Socket & { destroyed: boolean } {
  const s = {
    destroyed: false,
    read: () => chunks.shift() ?? null,
    destroy() {
      s.destroyed = true;
    },
  };
  return s as unknown as Socket & { destroyed: boolean };
}

describe('packet gate: MQTT framing followed across reads', () => {
  const drain = (s: Socket): (Buffer | null)[] => Array.from({ length: 8 }, () => s.read() as Buffer | null).filter((b) => b !== null);

  it('passes packets under the limit, whatever the chunking, and refuses a length split across reads', () => {
    // CONNECT of 20 bytes in 3 chunks, then PINGREQ (0xc0 0x00), then a PUBLISH whose length bytes
    // (0x80 0x80 0x01 = 16,384) arrive split over two reads.
    const connect = Buffer.concat([Buffer.from([0x10, 20]), Buffer.alloc(20, 1)]);
    const chunks = [connect.subarray(0, 1), connect.subarray(1, 9), Buffer.concat([connect.subarray(9), Buffer.from([0xc0, 0x00, 0x30, 0x80])]), Buffer.from([0x80, 0x01, 0, 0])];
    const refused: RefusedPacket[] = [];
    const s = fakeSocket(chunks);
    const gate = gateSocket(s, { beforeLogin: 8192, afterLogin: 100_000 }, (p) => refused.push(p));
    const out = drain(s);
    expect(out).toHaveLength(3); // the fourth chunk completes a declared 16,384 > 8,192 before login
    expect(refused).toEqual([{ type: 3, declared: 16_384, limit: 8192, loggedIn: false }]);
    expect(s.destroyed).toBe(true);
    void gate;
  });

  it('applies the larger limit once the login is accepted', () => {
    const publish = Buffer.concat([Buffer.from([0x30, 0x80, 0x80, 0x01]), Buffer.alloc(16_384, 2)]);
    const refused: RefusedPacket[] = [];
    const s = fakeSocket([Buffer.concat([Buffer.from([0x10, 2]), Buffer.alloc(2)]), publish, Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f])]);
    const gate = gateSocket(s, { beforeLogin: 8192, afterLogin: 100_000 }, (p) => refused.push(p));
    expect(s.read()).not.toBeNull();
    gate.loggedIn();
    expect((s.read() as Buffer).length).toBe(publish.length);
    expect(s.read()).toBeNull(); // 268,435,455 declared
    expect(refused).toEqual([{ type: 3, declared: 268_435_455, limit: 100_000, loggedIn: true }]);
  });
});
