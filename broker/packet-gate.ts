import type { Socket } from 'node:net';

/** The largest remaining length MQTT 3.1.1 can declare: four bytes of variable-length integer [MQTT-2.2.3]. */
export const MQTT_MAX_REMAINING_LENGTH = 268_435_455;

/**
 * What a PUBLISH may carry besides its payload: the topic (a UTF-8 string of at most 65,535 bytes, with
 * its 2-byte length [MQTT-1.5.3]) and the packet identifier (2 bytes, QoS 1 and 2) [MQTT-3.3.2].
 */
export const PUBLISH_OVERHEAD_BYTES = 2 + 65_535 + 2;

/** The packet limits a gate enforces on declared lengths; see `gateSocket`. */
export interface PacketLimits {
  /** Until the login is accepted: the CONNECT and whatever the client pipelines behind it. */
  beforeLogin: number;
  /** Once logged in: any packet (a PUBLISH with the largest allowed payload and topic fits). */
  afterLogin: number;
}

/** A packet refused on its fixed header, before its body was read. */
export interface RefusedPacket {
  /** The MQTT control packet type, 1 (CONNECT) .. 15 [MQTT-2.2.1]. */
  type: number;
  declared: number;
  limit: number;
  loggedIn: boolean;
}

/** The handle the broker keeps per connection: it tells the gate when the login was accepted. */
export interface PacketGate {
  loggedIn(): void;
}

type Phase = 'header' | 'length' | 'body' | 'off';

/**
 * Follows MQTT framing on the bytes a consumer reads from `socket`, and closes the connection as soon as
 * a fixed header declares a remaining length over the limit, so the body is never buffered: the parser
 * behind (mqtt-packet in aedes) would otherwise keep reading until it holds the whole declared packet,
 * up to 256 MB per connection before the password is even looked at. MQTT 3.1.1 has no way to tell a
 * client the limit (MQTT 5's Maximum Packet Size does), so closing is the answer [MQTT-4.8.0-1].
 *
 * It wraps `socket.read`, which is how aedes (paused mode, 'readable') and Node's flowing mode both take
 * bytes out of a stream; the socket stays the socket, so its address and TLS peer certificate are intact.
 */
export function gateSocket(socket: Socket, limits: PacketLimits, onRefused: (packet: RefusedPacket) => void): PacketGate {
  let phase: Phase = 'header';
  let type = 0;
  let value = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  let loggedIn = false;
  let refused = false;

  /** Advances the framing over `chunk`; false when a declared length is over the limit. */
  const follow = (chunk: Buffer): boolean => {
    let i = 0;
    while (i < chunk.length && phase !== 'off') {
      if (phase === 'header') {
        type = (chunk[i] as number) >> 4;
        value = 0;
        multiplier = 1;
        lengthBytes = 0;
        phase = 'length';
        i++;
      } else if (phase === 'length') {
        const byte = chunk[i] as number;
        i++;
        value += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes++;
        if (byte & 0x80) {
          // A fifth length byte is malformed [MQTT-2.2.3]; the parser behind refuses it, nothing to follow after.
          if (lengthBytes === 4) phase = 'off';
          continue;
        }
        const limit = loggedIn ? limits.afterLogin : limits.beforeLogin;
        if (value > limit) {
          phase = 'off';
          refused = true;
          onRefused({ type, declared: value, limit, loggedIn });
          return false;
        }
        remaining = value;
        phase = remaining > 0 ? 'body' : 'header';
      } else {
        const skip = Math.min(remaining, chunk.length - i);
        i += skip;
        remaining -= skip;
        if (remaining === 0) phase = 'header';
      }
    }
    return true;
  };

  const read = socket.read.bind(socket);
  socket.read = function gatedRead(size?: number): Buffer | string | null {
    if (refused) return null;
    const chunk = read(size) as Buffer | string | null;
    if (chunk === null || typeof chunk === 'string' || phase === 'off') return chunk;
    if (follow(chunk)) return chunk;
    socket.destroy();
    return null;
  } as Socket['read'];

  return {
    loggedIn() {
      loggedIn = true;
    },
  };
}
