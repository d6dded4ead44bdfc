/*
 * The audit log: append-only JSON lines under the data directory, each entry chained to the one
 * before by a SHA-256 hash over (previous hash, the entry's canonical JSON). Editing, removing or
 * reordering a line breaks the chain from that line on, and `watchfloor audit verify` says where.
 * The chain's head is anchored outside the log and signed (audit-anchor.ts), so a truncated tail
 * and an edit with every later hash recomputed are found too.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Request } from 'express';
import type { Clock } from '../core/index.ts';
import { AUDIT_FILE_MODE, AuditAnchors, checkAnchors, loadOrCreateAuditKey, readAnchors } from './audit-anchor.ts';

/** What happened, as a caller describes it; who, when and from where are filled in by the log. */
export interface AuditInput {
  /** Dotted verb, e.g. `auth.login`, `user.create`, `device.command`, `alert.ack`, `silence.create`. */
  action: string;
  /** What it was done to: a user name, device id, alert id... */
  target?: string;
  outcome?: 'ok' | 'denied' | 'failed';
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends Required<Pick<AuditInput, 'action' | 'outcome'>> {
  seq: number;
  ts: number;
  /** The user (or `token:<name>`), or `-` when nobody was logged in (a failed login names the attempted user in target). */
  actor: string;
  role?: string;
  /** The remote address. */
  source?: string;
  target?: string;
  detail?: Record<string, unknown>;
  /** The previous entry's hash ("" for the first). */
  prev: string;
  hash: string;
}

/** Key order fixed so the same entry always hashes the same. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
}

const hashOf = (entry: Omit<AuditEntry, 'hash'>): string => createHash('sha256').update(entry.prev).update('\n').update(canonical(entry)).digest('hex');

/** The hash an entry must carry (SHA-256 over its previous hash and canonical JSON). */
export const auditEntryHash = hashOf;

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  /** The last entry's hash: keep it elsewhere to detect a truncated tail later. */
  head: string;
  /** Signed anchors found and checked (0 for a log written before anchors existed). */
  anchors?: number;
  /** The first line (1-based) that does not verify, and why. */
  error?: { line: number; reason: string };
}

/**
 * Checks every line of an audit file: well-formed, in sequence, chained, and hashing to what it says;
 * then its signed anchors: each authentic, and its entry present with the anchored hash.
 */
export function verifyAuditFile(file: string): AuditVerdict {
  // Anchors first: an entry appended while this runs then cannot look like a truncated tail.
  const snapshot = readAnchors(file);
  const hashes: string[] = [];
  if (!existsSync(file)) {
    const { problem } = checkAnchors(snapshot, hashes);
    return problem ? { ok: false, entries: 0, head: '', error: { line: 1, reason: problem.reason } } : { ok: true, entries: 0, head: '' };
  }
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
  let prev = '';
  for (let i = 0; i < lines.length; i++) {
    const fail = (reason: string): AuditVerdict => ({ ok: false, entries: i, head: prev, error: { line: i + 1, reason } });
    let e: AuditEntry;
    try {
      e = JSON.parse(lines[i] as string) as AuditEntry;
    } catch {
      return fail('not valid JSON');
    }
    if (e.seq !== i + 1) return fail(`sequence number ${e.seq}, expected ${i + 1} (a line was removed or inserted)`);
    if (e.prev !== prev) return fail('does not chain to the previous entry');
    const { hash, ...rest } = e;
    if (hashOf(rest) !== hash) return fail('content does not match its hash (the entry was edited)');
    prev = hash;
    hashes.push(hash);
  }
  const { problem, anchors } = checkAnchors(snapshot, hashes);
  if (problem) return { ok: false, entries: problem.good, head: problem.good > 0 ? (hashes[problem.good - 1] as string) : '', anchors, error: { line: problem.line, reason: problem.reason } };
  return { ok: true, entries: lines.length, head: prev, anchors };
}

/** Append-only, hash-chained audit entries in one JSON-lines file (kept in memory too when no file). */
export class AuditLog {
  private seq = 0;
  private prev = '';
  private readonly memory: AuditEntry[] = [];
  /** The file's size after our last write: another writer (the CLI) changed it when it differs. */
  private size = -1;
  private readonly anchors: AuditAnchors | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly file?: string,
  ) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      if (existsSync(file)) chmodSync(file, AUDIT_FILE_MODE);
    }
    this.catchUp();
    if (file) {
      this.anchors = new AuditAnchors(file, loadOrCreateAuditKey(file));
      this.anchors.anchor(this.seq, this.prev, this.clock.now(), 'start');
    }
  }

  /** Anchors the current head again; for whoever rotates the log (each rotation is an anchor). */
  anchor(reason: 'start' | 'rotation'): void {
    this.catchUp();
    this.anchors?.anchor(this.seq, this.prev, this.clock.now(), reason);
  }

  /** Reads the chain's head from the file when someone else appended since our last write. */
  private catchUp(): void {
    if (!this.file || !existsSync(this.file)) return;
    const size = statSync(this.file).size;
    if (size === this.size) return;
    const last = readFileSync(this.file, 'utf8').split('\n').filter((l) => l !== '').at(-1);
    if (last) {
      const e = JSON.parse(last) as AuditEntry;
      this.seq = e.seq;
      this.prev = e.hash;
    }
    this.size = size;
  }

  /** Appends one entry, synchronously (an action is not done until its record is written). */
  append(input: AuditInput & { actor: string; role?: string; source?: string }): AuditEntry {
    this.catchUp();
    const body: Omit<AuditEntry, 'hash'> = {
      seq: this.seq + 1,
      ts: this.clock.now(),
      actor: input.actor,
      role: input.role,
      source: input.source,
      action: input.action,
      target: input.target,
      outcome: input.outcome ?? 'ok',
      detail: input.detail,
      prev: this.prev,
    };
    const entry: AuditEntry = { ...body, hash: hashOf(body) };
    if (this.file) {
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: AUDIT_FILE_MODE });
      this.size = statSync(this.file).size;
      this.anchors?.head(entry.seq, entry.hash, entry.ts);
    } else this.memory.push(entry);
    this.seq = entry.seq;
    this.prev = entry.hash;
    return entry;
  }

  /** Entries, newest first, filtered; reads the file so what is served is what is on disk. */
  query(filter: { since?: number; actor?: string; action?: string; limit: number }): AuditEntry[] {
    const all = this.file
      ? existsSync(this.file)
        ? readFileSync(this.file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AuditEntry)
        : []
      : this.memory;
    const out: AuditEntry[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < filter.limit; i--) {
      const e = all[i] as AuditEntry;
      if (filter.since !== undefined && e.ts < filter.since) break;
      if (filter.actor !== undefined && e.actor !== filter.actor) continue;
      if (filter.action !== undefined && e.action !== filter.action && !e.action.startsWith(`${filter.action}.`)) continue;
      out.push(e);
    }
    return out;
  }

  get head(): string {
    return this.prev;
  }
}

/** Marks a request as audited by its route, so the catch-all audit of state changes does not write it twice. */
const AUDITED = Symbol('audited');

/**
 * Records an action done through this request: who (its session or token), when, from where,
 * what. For route modules: `audit(req, { action: 'silence.create', target: silence.id })`.
 */
export function audit(req: Request, entry: AuditInput): void {
  const log = req.app.locals.auditLog as AuditLog | undefined;
  (req as unknown as Record<symbol, boolean>)[AUDITED] = true;
  log?.append({ ...entry, actor: req.session?.username ?? '-', role: req.session?.role, source: req.ip });
}

/** True once a route called audit() for this request. */
export const wasAudited = (req: Request): boolean => (req as unknown as Record<symbol, boolean>)[AUDITED] === true;
