import { z } from 'zod';

const Port = z.number().int().min(0).max(65535);
const Seconds = z.number().positive();

/**
 * The broker's section of the config: listeners, identities over TLS, limits, lockouts, persistence.
 * Every limit is here with its default; 0 turns a count limit off.
 */
export const MqttConfig = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: Port.default(1883),
  /** [MQTT-3.3.2] a broker may refuse a PUBLISH it cannot handle; 256 KiB is far above any sensor payload. */
  maxPayloadBytes: z.number().int().positive().default(256 * 1024),
  /**
   * The largest packet accepted before the login is checked (the CONNECT and anything pipelined behind it),
   * judged on the declared remaining length [MQTT-2.2.3] before a byte of the body is buffered. A CONNECT
   * carries a client id (at most 256 bytes here), a username, a password and a small last will.
   */
  maxConnectBytes: z.number().int().min(256).max(1024 * 1024).default(8 * 1024),
  /** A connection that has not sent its whole CONNECT by then is closed (a slow or silent socket holds a slot). */
  connectTimeoutSeconds: Seconds.max(300).default(10),
  /** mqtts: listens when `cert` and `key` are set (PEM file paths); `ca` verifies client certificates, whose CN or SAN names the device. */
  tls: z
    .strictObject({
      port: Port.default(8883),
      cert: z.string().optional(),
      key: z.string().optional(),
      ca: z.string().optional(),
      /** Refuse TLS clients without a certificate signed by `ca` (otherwise they may log in with a password). */
      requireClientCert: z.boolean().default(false),
    })
    .prefault({}),
  /** Open connections one source address may hold. */
  maxConnectionsPerSource: z.number().int().nonnegative().default(1000),
  /** New connections one source address may open per window. */
  connectionRate: z.strictObject({ max: z.number().int().nonnegative().default(200), windowSeconds: Seconds.default(10) }).prefault({}),
  /** [MQTT-3.1.2-24] the server disconnects a client silent for 1.5 x its keep alive; a CONNECT asking for 0 (never) or more than this is refused. */
  maxKeepAliveSeconds: z.number().int().positive().default(600),
  /** QoS 1 and 2 PUBLISHes one client may have in flight (received, not yet routed) before it is disconnected. */
  maxInflightPerClient: z.number().int().positive().default(1000),
  /** Brute force: this many failed logins from one source in the window lock it out. */
  bruteForce: z
    .strictObject({ failures: z.number().int().nonnegative().default(10), windowSeconds: Seconds.default(60), lockoutSeconds: Seconds.default(300) })
    .prefault({}),
  /** Reconnect storms: this many denied publishes/subscribes by one identity in the window ban it for a while. */
  denials: z
    .strictObject({
      max: z.number().int().nonnegative().default(10),
      windowSeconds: Seconds.default(60),
      banSeconds: Seconds.default(60),
      slowdownMs: z.number().int().nonnegative().default(100),
    })
    .prefault({}),
  /** Addresses or CIDR blocks allowed to connect (e.g. ["10.0.0.0/8", "127.0.0.1"]); empty = any. */
  allowedSources: z.array(z.string()).default([]),
  /**
   * Refuse (CONNACK 0x02, identifier rejected) and report a device account whose client id does not start
   * with its device id, like Mosquitto's `use_username_as_clientid` or an EMQX client-id ACL. Off by default:
   * a valid credential is the device, whatever id its MQTT library made up (`mosq-…`, paho's random ids).
   * A client id naming another device is reported either way.
   */
  strictClientId: z.boolean().default(false),
  /** Report (without refusing) device client ids that do not start with the device id; the lenient half of `strictClientId`. */
  reportUnknownClientIds: z.boolean().default(false),
  /** Where sessions, QoS 1/2 queues and retained messages live: memory, disk (under the data dir), or Redis (`redis.url`), which also carries messages between brokers. */
  persistence: z.enum(['memory', 'disk', 'redis']).default('disk'),
  redis: z.strictObject({ url: z.string().default('redis://127.0.0.1:6379') }).prefault({}),
  /**
   * Use an external broker (Mosquitto, EMQX) in place of the embedded one: ingest subscribes to it as an
   * MQTT client. Its own authentication and ACLs apply; the settings above (accounts, limits, TLS) do not.
   */
  external: z
    .strictObject({
      url: z.string().regex(/^(mqtts?|wss?):\/\//, 'an MQTT URL: mqtt://, mqtts://, ws:// or wss://'),
      username: z.string().optional(),
      password: z.string().optional(),
      /** Subscribe as `$share/{shareGroup}/devices/+/...`, so ingest workers in the group split the stream. */
      shareGroup: z.string().regex(/^[^/+#$]+$/, 'a name without "/", "+", "#" or "$"').optional(),
      clientId: z.string().optional(),
      /**
       * The account the SNMP poller, the trap receiver and the simulated fleet publish as: one the broker
       * lets publish under `devices/+/`. Default: `username` and `password` above.
       */
      collector: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
    })
    .optional(),
  /**
   * Ingest workers on the embedded (Redis-clustered) broker, which has no shared subscriptions: this worker
   * handles the devices whose hash modulo `count` is `index`, and leaves the others to its peers.
   */
  ingestPartition: z
    .strictObject({ index: z.number().int().nonnegative(), count: z.number().int().positive() })
    .refine((p) => p.index < p.count, { message: 'index must be below count', path: ['index'] })
    .optional(),
});
export type MqttConfig = z.infer<typeof MqttConfig>;
