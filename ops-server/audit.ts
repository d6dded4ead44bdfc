/*
 * The audit log: append-only JSON lines under the data directory, each entry chained to the one
 * before by a SHA-256 hash over (previous hash, the entry's canonical JSON). Editing, removing or
 * reordering a line breaks the chain from that line on, and `watchfloor audit verify` says where.
 * (Truncating the tail is only detectable against a hash kept elsewhere: the head hash is logged.)
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Request } from 'express';
import type { Clock } from '../core/index.ts';

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

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  /** The last entry's hash: keep it elsewhere to detect a truncated tail later. */
  head: string;
  /** The first line (1-based) that does not verify, and why. */
  error?: { line: number; reason: string };
}

/** Checks every line of an audit file: well-formed, in sequence, chained, and hashing to what it says. */
export function verifyAuditFile(file: string): AuditVerdict {
  if (!existsSync(file)) return { ok: true, entries: 0, head: '' };
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
  }
  return { ok: true, entries: lines.length, head: prev };
}

/** Append-only, hash-chained audit entries in one JSON-lines file (kept in memory too when no file). */
export class AuditLog {
  private seq = 0;
  private prev = '';
  private readonly memory: AuditEntry[] = [];
  /** The file's size after our last write: another writer (the CLI) changed it when it differs. */
  private size = -1;

  constructor(
    private readonly clock: Clock,
    private readonly file?: string,
  ) {
    if (file) mkdirSync(dirname(file), { recursive: true });
    this.catchUp();
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
      appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
      this.size = statSync(this.file).size;
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
