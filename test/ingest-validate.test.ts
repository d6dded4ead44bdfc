import { describe, expect, it } from 'vitest';
import { Dropped, validate } from '../collectors/mqtt/pipeline.ts';
import { decodeTelemetry } from '../core/index.ts';

/**
 * validate() checks the usual `{"metrics": {...}}` payload by hand before it asks the zod schema
 * (issue 19: zod took 16 % of ingest's time under load). The hand check may only ever agree with the
 * schema: on each payload here, valid or not, both give the same reading or both refuse it.
 */
const PAYLOADS = [
  '{"metrics":{"temperature":21.5}}', '{"metrics":{}}', '{"ts":5,"metrics":{"a":1.5,"b.c":2,"_x":3}}', '{"metrics":{"a":-0}}',
  '{"metrics":{"a":1e308}}', `{"metrics":{"${'a'.repeat(64)}":1}}`, `{"metrics":{"${'a'.repeat(65)}":1}}`,
  '{"ts":-1,"metrics":{"a":1}}', '{"ts":1.5,"metrics":{"a":1}}', '{"ts":null,"metrics":{"a":1}}', '{"ts":"5","metrics":{"a":1}}',
  '{"ts":8640000000000001,"metrics":{"a":1}}', '{"metrics":{"a":"1"}}', '{"metrics":{"a":null}}', '{"metrics":{"1a":1}}',
  '{"metrics":{"a-b":1}}', '{"metrics":{"":1}}', '{"metrics":{"__proto__":1}}', '{"metrics":[1]}', '{"metrics":null}',
  '{"metrics":{"a":1},"extra":1}', '{"temperature":21.5}', '{"ts":3,"a":1}', '[]', '1', 'null', '"text"',
];

describe('ingest validate: the hand check of the usual payload agrees with the schema', () => {
  it.each(PAYLOADS)('%s', (payload) => {
    const fast = validate(JSON.parse(payload), 42);
    const schema = decodeTelemetry(JSON.parse(payload), 42);
    if (schema.ok) expect(fast).toEqual(schema.value);
    else expect(fast).toBeInstanceOf(Dropped);
  });
});
