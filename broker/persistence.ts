import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { MqttConfig } from '../core/index.ts';

// aedes 1.x wants persistences with async methods: the packages' asyncPersistence classes, not their
// callback wrappers (their main export), which aedes refuses ("persistence.setup() must be an async function").
const require = createRequire(import.meta.url);

/** What aedes receives as `persistence` and `mq`, and how to let go of them after aedes closes. */
export interface BrokerState {
  persistence?: unknown;
  mq?: unknown;
  /**
   * On disk only (one broker alone on its LevelDB): the retained messages left from the last run, read
   * at start to turn a device's stale `online` into `offline` (presence.ts settle).
   */
  retained?: (patterns: string[]) => AsyncIterable<{ topic: string; payload: Buffer }>;
  /** Closes what aedes does not close itself (the persistence's database or Redis connection). */
  close(): Promise<void>;
}

export type PersistenceChoice = { kind: 'memory' } | { kind: 'disk'; dir: string } | { kind: 'redis'; url: string };

/** The config's `mqtt.persistence`; `disk` needs the data directory (`{dataDir}/mqtt-sessions`), memory without one. */
export function persistenceChoice(cfg: Pick<MqttConfig, 'persistence' | 'redis'>, dataDir: string | undefined): PersistenceChoice {
  if (cfg.persistence === 'redis') return { kind: 'redis', url: cfg.redis.url };
  if (cfg.persistence === 'disk' && dataDir) return { kind: 'disk', dir: join(dataDir, 'mqtt-sessions') };
  return { kind: 'memory' };
}

interface Destroyable {
  destroy(): Promise<void>;
}

/**
 * The broker's state: in memory; on disk with LevelDB (sessions, QoS 1/2 queues, retained messages
 * survive a restart); or in Redis, where mqemitter-redis also carries every publish to the other
 * brokers, so several processes act as one broker.
 */
export async function openBrokerState(choice: PersistenceChoice): Promise<BrokerState> {
  if (choice.kind === 'memory') return { close: async () => undefined };
  if (choice.kind === 'disk') {
    mkdirSync(choice.dir, { recursive: true });
    const { Level } = (await import('level')) as { Level: new (dir: string) => unknown };
    const LevelPersistence = require('aedes-persistence-level/asyncPersistence.js') as new (db: unknown) => Destroyable;
    type Retained = { createRetainedStreamCombi(patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer }> };
    const persistence = new LevelPersistence(new Level(choice.dir)) as Destroyable & Retained;
    const retained = (patterns: string[]): AsyncIterable<{ topic: string; payload: Buffer }> => persistence.createRetainedStreamCombi(patterns);
    return { persistence, retained, close: () => persistence.destroy().catch(() => undefined) };
  }
  const RedisPersistence = require('aedes-persistence-redis/asyncPersistence.js') as new (opts: object) => Destroyable;
  const mqemitterRedis = require('mqemitter-redis') as (opts: object) => unknown;
  // ioredis reads a redis:// URL as `connectionString` (mqemitter-redis) or as its first argument.
  const { hostname, port, password, pathname } = new URL(choice.url);
  const redis = { host: hostname, port: Number(port || 6379), password: password || undefined, db: Number(pathname.slice(1) || 0) };
  const persistence = new RedisPersistence(redis) as Destroyable & { createRetainedStreamCombi(patterns: string[]): unknown };
  // aedes 1.2 pipes the retained messages (`.pipe`), as aedes-persistence and -level hand them; the redis
  // persistence 11.x hands an async generator, so a SUBSCRIBE would crash the broker without this Readable.
  const retained = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns) => {
    const out = retained(patterns);
    return out instanceof Readable ? out : Readable.from(out as AsyncIterable<unknown>);
  };
  const mq = mqemitterRedis(redis);
  return { persistence, mq, close: () => persistence.destroy().catch(() => undefined) };
}
