/*
 * Anchors for the audit chain. A hash chain alone shows an edit, but not a truncated tail, nor an edit
 * whose author recomputed every hash after it. So the chain's head (sequence number and hash) is
 * anchored outside the log, signed with HMAC-SHA256 (RFC 2104) under a key kept in the data directory:
 * - `audit.anchors.jsonl`: one anchor each time the log is opened (a start) or rotated, append-only;
 * - `audit.head.json`: the newest head, rewritten after every entry.
 * `watchfloor audit verify` then finds (a) a truncated tail: an anchored entry is missing; (b) an entry
 * edited with the chain recomputed: the entry no longer has the anchored hash, and rewriting the
 * anchor too breaks its HMAC, which needs the key (mode 600, readable by the product's user only).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Owner read/write only: the key signs anchors, and the log names users and addresses. */
export const AUDIT_FILE_MODE = 0o600;

export interface AuditAnchor {
  /** The entry anchored (0: the log was empty). */
  seq: number;
  /** Its hash ("" for an empty log). */
  head: string;
  ts: number;
  reason: 'start' | 'rotation' | 'head';
  /** HMAC-SHA256 over the fields above, hex. */
  mac: string;
}

/** Where a log's key and anchors live: beside it, named after it (`audit.jsonl` -> `audit.key`...). */
export function anchorFiles(logFile: string): { key: string; anchors: string; head: string } {
  const base = logFile.replace(/\.jsonl$/, '');
  return { key: `${base}.key`, anchors: `${base}.anchors.jsonl`, head: `${base}.head.json` };
}

const macOf = (key: Buffer, a: Omit<AuditAnchor, 'mac'>): string =>
  createHmac('sha256', key).update(`watchfloor-audit-anchor\n${a.seq}\n${a.head}\n${a.ts}\n${a.reason}`).digest('hex');

function readKey(file: string): Buffer | undefined {
  if (!existsSync(file)) return undefined;
  const hex = readFileSync(file, 'utf8').trim();
  return /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** Reads the log's HMAC key, creating it (32 random bytes, mode 600) on first use. */
export function loadOrCreateAuditKey(logFile: string): Buffer {
  const { key: file } = anchorFiles(logFile);
  const existing = readKey(file);
  if (existing) {
    chmodSync(file, AUDIT_FILE_MODE);
    return existing;
  }
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: AUDIT_FILE_MODE, flag: existsSync(file) ? 'w' : 'wx' });
  chmodSync(file, AUDIT_FILE_MODE);
  return key;
}

/** Signs and writes anchors of one log. */
export class AuditAnchors {
  private readonly files: ReturnType<typeof anchorFiles>;

  constructor(
    logFile: string,
    private readonly key: Buffer,
  ) {
    this.files = anchorFiles(logFile);
  }

  private sign(seq: number, head: string, ts: number, reason: AuditAnchor['reason']): AuditAnchor {
    const a = { seq, head, ts, reason };
    return { ...a, mac: macOf(this.key, a) };
  }

  /** Appends a start or rotation anchor, and makes it the current head too. */
  anchor(seq: number, head: string, ts: number, reason: 'start' | 'rotation'): AuditAnchor {
    const a = this.sign(seq, head, ts, reason);
    appendFileSync(this.files.anchors, `${JSON.stringify(a)}\n`, { mode: AUDIT_FILE_MODE });
    this.head(seq, head, ts);
    return a;
  }

  /** Rewrites the current head (after every entry), atomically. */
  head(seq: number, head: string, ts: number): void {
    const tmp = `${this.files.head}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.sign(seq, head, ts, 'head'))}\n`, { mode: AUDIT_FILE_MODE });
    renameSync(tmp, this.files.head);
  }
}

export interface AnchorProblem {
  /** The log line (1-based) the problem is found at. */
  line: number;
  /** Entries known good: up to the last anchor that checked out. */
  good: number;
  reason: string;
}

const when = (ts: number): string => (Number.isFinite(ts) ? new Date(ts).toISOString() : 'an unknown time');

/** What is anchored, read before the log itself so an entry appended meanwhile is no false "truncated". */
export interface AnchorSnapshot {
  files: ReturnType<typeof anchorFiles>;
  /** Start and rotation anchors, then the head anchor ("" when a file is missing). */
  lines: string[];
  hasAny: boolean;
  keyFileExists: boolean;
  key: Buffer | undefined;
}

/** Reads a log's anchors and key. */
export function readAnchors(logFile: string): AnchorSnapshot {
  const files = anchorFiles(logFile);
  const lines = existsSync(files.anchors) ? readFileSync(files.anchors, 'utf8').split('\n').filter((l) => l !== '') : [];
  const hasAny = lines.length > 0 || existsSync(files.head);
  lines.push(existsSync(files.head) ? readFileSync(files.head, 'utf8').trim() : '');
  return { files, lines, hasAny, keyFileExists: existsSync(files.key), key: readKey(files.key) };
}

/**
 * Checks anchors against a log's entry hashes (`hashes[i]` is entry i+1's, already chain-verified).
 * Answers the first problem, or none when every anchor is authentic and found in the log.
 */
export function checkAnchors(snap: AnchorSnapshot, hashes: readonly string[]): { problem?: AnchorProblem; anchors: number } {
  const { files, lines } = snap;
  if (!snap.hasAny) {
    // A log written before anchors existed; once a key exists, its anchors must too.
    if (snap.keyFileExists && hashes.length > 0) return { anchors: 0, problem: { line: hashes.length, good: 0, reason: `the anchors of this log (${files.anchors}, ${files.head}) are missing: the log cannot be checked for a truncated tail` } };
    return { anchors: 0 };
  }
  const key = snap.key;
  if (!key) return { anchors: 0, problem: { line: 1, good: 0, reason: `the audit key ${files.key} is missing or malformed: its anchors cannot be checked` } };
  let good = 0;
  for (let i = 0; i < lines.length; i++) {
    const where = i < lines.length - 1 ? `anchor ${i + 1} of ${files.anchors}` : `the head anchor ${files.head}`;
    const raw = lines[i] as string;
    if (raw === '') return { anchors: i, problem: { line: hashes.length, good, reason: `${where} is missing (a truncated tail would go unnoticed without it)` } };
    let a: AuditAnchor;
    try {
      a = JSON.parse(raw) as AuditAnchor;
    } catch {
      return { anchors: i, problem: { line: 1, good, reason: `${where} is not valid JSON` } };
    }
    const { mac, ...rest } = a;
    const expected = Buffer.from(macOf(key, rest), 'hex');
    const given = Buffer.from(typeof mac === 'string' ? mac : '', 'hex');
    if (!Number.isInteger(a.seq) || a.seq < 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { anchors: i, problem: { line: Math.min(Math.max(Number(a.seq) || 1, 1), hashes.length + 1), good, reason: `${where} fails its HMAC: it was rewritten (to hide an edited or removed entry) or signed with another key` } };
    }
    if (a.seq > hashes.length) {
      return { anchors: i, problem: { line: hashes.length + 1, good, reason: `truncated: entry ${a.seq}, anchored at ${when(a.ts)}, is missing (the log ends at entry ${hashes.length})` } };
    }
    if (a.seq > 0 && hashes[a.seq - 1] !== a.head) {
      return { anchors: i, problem: { line: a.seq, good, reason: `entry ${a.seq} does not have the hash anchored at ${when(a.ts)}: an entry up to it was edited and the chain recomputed` } };
    }
    good = Math.max(good, a.seq);
  }
  return { anchors: lines.length };
}
