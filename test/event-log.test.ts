import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EventLog } from '../cli/event-log.ts';
import { ADMIN_PASSWORD, api, login, startProduct } from './support/start-product.ts';

const dir = mkdtempSync(join(tmpdir(), 'wf-events-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Ev {
  ts: number;
  type: string;
}

describe('the event log on disk', () => {
  it('reads back the last events after a restart, newest first, and keeps its file bounded', () => {
    const file = join(dir, 'bounded', 'events.jsonl');
    const first = new EventLog<Ev>(5, file);
    for (let i = 1; i <= 23; i++) {
      first.add({ ts: i, type: `e${i}` });
      if (i % 4 === 0) first.close(); // written in bursts, as the timer would
    }
    first.close();
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(10);
    const again = new EventLog<Ev>(5, file);
    expect(again.query(() => true).map((e) => e.type)).toEqual(['e23', 'e22', 'e21', 'e20', 'e19']);
  });

  it('skips a line cut short by a crash and keeps the others', () => {
    const file = join(dir, 'torn.jsonl');
    writeFileSync(file, '{"ts":1,"type":"a"}\n{"ts":2,"type":"b"}\n{"ts":3,"ty');
    expect(new EventLog<Ev>(10, file).query(() => true).map((e) => e.type)).toEqual(['b', 'a']);
  });
});

describe('security events across a restart of the product', () => {
  it('still lists a failed login after the server restarted', async () => {
    const first = await startProduct();
    const wrong = await fetch(`${first.base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'not-it' }) });
    expect(wrong.status).toBe(401);
    const before = (await api(first.base, await login(first.base), '/api/v1/security-events')).body as { type: string; username?: string }[];
    const failed = before.find((e) => e.username === 'admin' && e.type !== 'login');
    expect(failed).toBeDefined();
    await first.app.stop();

    const second = await startProduct({ dataDir: first.dataDir });
    try {
      const after = (await api(second.base, await login(second.base, 'admin', ADMIN_PASSWORD), '/api/v1/security-events')).body as { type: string; username?: string; ts: number }[];
      expect(after).toContainEqual(failed);
    } finally {
      await second.app.stop();
    }
  });
});
