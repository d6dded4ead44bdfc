import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Alert, type Logger } from '../core/index.ts';
import type { HistoryEntry } from './lifecycle.ts';
import type { Silence } from './silences.ts';

/**
 * Alerts on disk under `<dataDir>/alerts/`: `history.jsonl`, append-only, one line per change with
 * who, when and what (written before the change is answered); `state.json`, the alerts and
 * silences as they are, rewritten atomically (temp file, rename) shortly after a change.
 */
export class AlertJournal {
  private readonly historyFile: string;
  private readonly stateFile: string;
  /** Saved objects set aside at start (they did not validate), one JSON line each, for a person to look at. */
  readonly rejectedFile: string;
  private readonly byAlert = new Map<string, HistoryEntry[]>();
  private timer: NodeJS.Timeout | undefined;
  private snapshot: (() => { alerts: Alert[]; silences: Silence[] }) | undefined;

  constructor(dir: string, private readonly logger?: Logger) {
    mkdirSync(dir, { recursive: true });
    this.historyFile = join(dir, 'history.jsonl');
    this.stateFile = join(dir, 'state.json');
    this.rejectedFile = join(dir, 'rejected.jsonl');
    if (existsSync(this.historyFile)) {
      for (const line of readFileSync(this.historyFile, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as HistoryEntry;
          this.remember(e);
        } catch {
          // A line cut short by a crash mid-write; the ones before it still count.
          this.logger?.warn({ file: this.historyFile }, 'alerts: skipped an unreadable history line');
        }
      }
    }
  }

  /**
   * The alerts and silences saved by the previous run. Alerts that do not validate are left out
   * (and listed in `rejected`); silences come back as saved, for the silence book to check.
   */
  load(): { alerts: Alert[]; silences: unknown[]; rejected: { what: 'alert'; item: unknown; reason: string }[] } {
    const none = { alerts: [], silences: [], rejected: [] };
    if (!existsSync(this.stateFile)) return none;
    let state: { alerts?: unknown; silences?: unknown };
    try {
      state = JSON.parse(readFileSync(this.stateFile, 'utf8')) as typeof state;
    } catch (err) {
      this.logger?.error({ file: this.stateFile, err: (err as Error).message }, 'alerts: state file unreadable; starting without saved alerts');
      return none;
    }
    const alerts: Alert[] = [];
    const rejected: { what: 'alert'; item: unknown; reason: string }[] = [];
    for (const item of Array.isArray(state?.alerts) ? (state.alerts as unknown[]) : []) {
      const r = Alert.safeParse(item);
      if (r.success) alerts.push(item as Alert);
      else rejected.push({ what: 'alert', item, reason: `${r.error.issues[0]?.path.join('.') ?? ''}: ${r.error.issues[0]?.message ?? 'invalid'}` });
    }
    return { alerts, silences: Array.isArray(state?.silences) ? (state.silences as unknown[]) : [], rejected };
  }

  /**
   * Keeps saved objects that did not validate in `rejected.jsonl` (the state file is rewritten
   * without them), with a log line each: set aside, not fatal, and not lost.
   */
  setAside(items: readonly { what: string; item: unknown; reason: string }[], now: number): void {
    for (const { what, item, reason } of items) {
      this.logger?.error({ file: this.stateFile, what, id: (item as { id?: unknown } | null)?.id, reason, keptIn: this.rejectedFile }, `alerts: a saved ${what} does not validate; set aside`);
      try {
        appendFileSync(this.rejectedFile, `${JSON.stringify({ ts: now, what, reason, item })}\n`);
      } catch (err) {
        this.logger?.error({ file: this.rejectedFile, err: (err as Error).message }, 'alerts: could not keep a set-aside object');
      }
    }
  }

  /** Where the snapshot comes from; called on every save. */
  source(fn: () => { alerts: Alert[]; silences: Silence[] }): void {
    this.snapshot = fn;
  }

  /** Appends one history line and schedules a snapshot. */
  record(entry: HistoryEntry): void {
    appendFileSync(this.historyFile, `${JSON.stringify(entry)}\n`);
    this.remember(entry);
    this.changed();
  }

  /** Schedules a snapshot within 100 ms: a storm of changes makes one write, not thousands. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.save(), 100);
    this.timer.unref();
  }

  /** An alert's history, oldest first. */
  history(alertId: string): HistoryEntry[] {
    return this.byAlert.get(alertId) ?? [];
  }

  /** Writes the snapshot now (and on stop). */
  save(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.snapshot) return;
    const tmp = `${this.stateFile}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.snapshot()));
      renameSync(tmp, this.stateFile);
    } catch (err) {
      this.logger?.error({ file: this.stateFile, err: (err as Error).message }, 'alerts: could not save state');
    }
  }

  private remember(e: HistoryEntry): void {
    let list = this.byAlert.get(e.alert);
    if (!list) this.byAlert.set(e.alert, (list = []));
    list.push(e);
  }
}
