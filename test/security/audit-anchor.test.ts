/*
 * Issue 12, "also weak": `audit verify` missed a truncated tail and an edit with the chain recomputed.
 * The head is now anchored (at start, on rotation, after every entry) and the anchors are HMAC-signed
 * with a key in the data directory; the real CLI finds both tamperings.
 */
import { runCli, type CliRun } from '../support/cli.ts';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { anchorFiles } from '../../ops-server/audit-anchor.ts';
import { AuditLog, auditEntryHash, verifyAuditFile, type AuditEntry } from '../../ops-server/audit.ts';

/** Runs `watchfloor audit verify` on a data directory. */
const verifyCli = (dataDir: string): Promise<CliRun> => runCli(dataDir, ['audit', 'verify']);

/** Rewrites every entry's prev and hash from the first one on, as a tamperer with the algorithm would. */
function recomputeChain(entries: AuditEntry[]): AuditEntry[] {
  let prev = '';
  return entries.map((e) => {
    const { hash: _old, ...rest } = { ...e, prev };
    const hash = auditEntryHash(rest);
    prev = hash;
    return { ...rest, hash };
  });
}

const toFile = (entries: AuditEntry[]): string => entries.map((e) => `${JSON.stringify(e)}\n`).join('');

describe('audit anchors: a truncated tail and a recomputed chain are found', () => {
  let dir: string;
  let file: string;
  let pristine: { log: string; anchors: string; head: string };
  let t = 1_700_000_000_000;
  const clock = { now: () => (t += 1000) };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wf-audit-anchor-'));
    file = join(dir, 'audit.jsonl');
    // Two starts of the product, each anchoring the head it found; entries in between and after.
    const first = new AuditLog(clock, file);
    first.append({ action: 'auth.login', target: 'admin', actor: 'admin', role: 'admin', source: '127.0.0.1' });
    first.append({ action: 'user.create', target: 'analyst', actor: 'admin', role: 'admin', source: '127.0.0.1' });
    first.append({ action: 'device.register', target: 'ups-1', actor: 'admin', role: 'admin', source: '127.0.0.1' });
    const second = new AuditLog(clock, file);
    second.append({ action: 'silence.create', target: 's-1', actor: 'analyst', role: 'soc', source: '127.0.0.1' });
    second.append({ action: 'alert.ack', target: 'a-1', actor: 'analyst', role: 'soc', source: '127.0.0.1' });
    second.append({ action: 'user.disable', target: 'analyst', actor: 'admin', role: 'admin', source: '127.0.0.1' });
    const f = anchorFiles(file);
    pristine = { log: readFileSync(file, 'utf8'), anchors: readFileSync(f.anchors, 'utf8'), head: readFileSync(f.head, 'utf8') };
  });

  const restore = (): void => {
    const f = anchorFiles(file);
    writeFileSync(file, pristine.log);
    writeFileSync(f.anchors, pristine.anchors);
    writeFileSync(f.head, pristine.head);
  };
  const entries = (): AuditEntry[] => pristine.log.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditEntry);

  /** A copy of the data directory with its log replaced, for the CLI to verify while others run. */
  const copyWith = (log: string): string => {
    const copy = mkdtempSync(join(tmpdir(), 'wf-audit-copy-'));
    const f = anchorFiles(file);
    for (const path of [f.key, f.anchors, f.head]) copyFileSync(path, join(copy, path.slice(dir.length + 1)));
    writeFileSync(join(copy, 'audit.jsonl'), log);
    return copy;
  };

  it('keeps the key, the log and its anchors readable by the owner only', () => {
    const f = anchorFiles(file);
    for (const path of [f.key, file, f.anchors, f.head]) expect((statSync(path).mode & 0o777).toString(8), path).toBe('600');
    expect(pristine.anchors.trimEnd().split('\n').map((l) => (JSON.parse(l) as { seq: number; reason: string }))).toMatchObject([
      { seq: 0, reason: 'start' },
      { seq: 3, reason: 'start' },
    ]);
    expect(JSON.parse(pristine.head)).toMatchObject({ seq: 6, reason: 'head' });
  });

  it('`watchfloor audit verify` passes the untouched log, and finds a truncated tail and a recomputed chain', async () => {
    // The last two entries cut off: what is left chains perfectly.
    const truncated = toFile(entries().slice(0, 4));
    // Who created the analyst rewritten, and every hash after it recomputed: the chain alone verifies.
    const edited = entries();
    (edited[1] as AuditEntry).actor = 'nobody';
    const recomputed = toFile(recomputeChain(edited));
    const [ok, cut, forged] = await Promise.all([verifyCli(dir), verifyCli(copyWith(truncated)), verifyCli(copyWith(recomputed))]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/audit log intact: 6 entries/);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/line 5: truncated: entry 6, anchored at .*, is missing \(the log ends at entry 4\)/);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toMatch(/line 3: entry 3 does not have the hash anchored at .*: an entry up to it was edited and the chain recomputed/);
  }, 60_000);

  it('finds a cut below a start anchor, anchors rewritten without the key, anchors removed, and another key', () => {
    try {
      writeFileSync(file, toFile(entries().slice(0, 2)));
      expect(verifyAuditFile(file)).toMatchObject({ ok: false, error: { line: 3, reason: expect.stringMatching(/truncated: entry 3/) } });

      const edited = entries();
      (edited[1] as AuditEntry).actor = 'nobody';
      const forged = recomputeChain(edited);
      writeFileSync(file, toFile(forged));
      expect(verifyAuditFile(file)).toMatchObject({ ok: false, error: { line: 3, reason: expect.stringMatching(/does not have the hash anchored/) } });

      // The tamperer rewrites the anchors' hashes too, but cannot sign them without the key.
      const f = anchorFiles(file);
      const reanchor = (line: string): string => {
        const a = JSON.parse(line) as { seq: number; head: string };
        return JSON.stringify({ ...a, head: a.seq > 0 ? (forged[a.seq - 1] as AuditEntry).hash : '' });
      };
      writeFileSync(f.anchors, `${pristine.anchors.trimEnd().split('\n').map(reanchor).join('\n')}\n`);
      writeFileSync(f.head, `${reanchor(pristine.head.trim())}\n`);
      expect(verifyAuditFile(file)).toMatchObject({ ok: false, error: { reason: expect.stringMatching(/fails its HMAC/) } });

      // Nor by removing the anchors altogether, nor by swapping in another key.
      rmSync(f.anchors);
      rmSync(f.head);
      expect(verifyAuditFile(file)).toMatchObject({ ok: false, error: { reason: expect.stringMatching(/anchors of this log .* are missing/) } });
      restore();
      copyFileSync(f.key, join(dir, 'key.bak'));
      writeFileSync(f.key, `${'ab'.repeat(32)}\n`);
      expect(verifyAuditFile(file)).toMatchObject({ ok: false, error: { reason: expect.stringMatching(/fails its HMAC/) } });
      copyFileSync(join(dir, 'key.bak'), f.key);
    } finally {
      restore();
    }
    expect(verifyAuditFile(file)).toMatchObject({ ok: true, entries: 6, anchors: 3 });
  });

  it('anchors on rotation, and reads an old log without anchors as before', () => {
    const old = mkdtempSync(join(tmpdir(), 'wf-audit-old-'));
    const oldFile = join(old, 'audit.jsonl');
    writeFileSync(oldFile, toFile(entries().slice(0, 3)));
    expect(verifyAuditFile(oldFile)).toMatchObject({ ok: true, entries: 3, anchors: 0 });
    const log = new AuditLog(clock, oldFile);
    expect(existsSync(anchorFiles(oldFile).key)).toBe(true);
    log.anchor('rotation');
    const reasons = readFileSync(anchorFiles(oldFile).anchors, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { reason: string; seq: number }));
    expect(reasons).toMatchObject([{ reason: 'start', seq: 3 }, { reason: 'rotation', seq: 3 }]);
    expect(verifyAuditFile(oldFile)).toMatchObject({ ok: true, entries: 3 });
  });
});
