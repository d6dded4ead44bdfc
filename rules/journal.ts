import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert, Logger } from '../core/index.ts';
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
  private readonly byAlert = new Map<string, HistoryEntry[]>();
  private timer: NodeJS.Timeout | undefined;
  private snapshot: (() => { alerts: Alert[]; silences: Silence[] }) | undefined;

  constructor(dir: string, private readonly logger?: Logger) {
    mkdirSync(dir, { recursive: true });
    this.historyFile = join(dir, 'history.jsonl');
    this.stateFile = join(dir, 'state.json');
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

  /** The alerts and silences saved by the previous run. */
  load(): { alerts: Alert[]; silences: Silence[] } {
    if (!existsSync(this.stateFile)) return { alerts: [], silences: [] };
    try {
      const state = JSON.parse(readFileSync(this.stateFile, 'utf8')) as { alerts?: Alert[]; silences?: Silence[] };
      return { alerts: state.alerts ?? [], silences: state.silences ?? [] };
    } catch (err) {
      this.logger?.error({ file: this.stateFile, err: (err as Error).message }, 'alerts: state file unreadable; starting without saved alerts');
      return { alerts: [], silences: [] };
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
