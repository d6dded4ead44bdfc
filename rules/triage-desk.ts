import { join } from 'node:path';
import { AlertKind, badRequest, conflict, expectedIntervalOf, forbidden, notFound, wfFieldError, type Alert, type Clock, type ConfigError, type Estate, type Logger } from '../core/index.ts';
import type { AlertChange } from './alert-book.ts';
import { dependencyTree } from './dependencies.ts';
import { RuleEngine, type RuleStatus } from './engine.ts';
import { AlertJournal } from './journal.ts';
import { parseNotifyConfig, startNotifier, type Notifier } from './notify/index.ts';
import type { AlertAction, HistoryEntry } from './lifecycle.ts';
import type { RuleDef } from './kinds/index.ts';
import { admitSilences, fieldOf, SilenceBook, SilenceInput, type Silence } from './silences.ts';

/** Who is acting, as the ops server's session knows them. */
export interface Actor {
  username: string;
  role: 'admin' | 'noc' | 'soc' | 'viewer';
}

/** The NOC acts on what keeps the floor running, the SOC on security; admin on all, viewer on none. */
export function mayActOn(role: Actor['role'], kind: AlertKind): boolean {
  if (role === 'admin') return true;
  if (role === 'soc') return kind === 'security';
  if (role === 'noc') return kind !== 'security';
  return false;
}

/** The alert kinds a role acts on, in AlertKind's order. */
export const kindsOf = (role: Actor['role']): AlertKind[] => AlertKind.options.filter((k) => mayActOn(role, k));

/** What the REST routes use: people's actions, history, silences, the rules and their reload. */
export interface AlertDesk {
  act(id: string, action: AlertAction, actor: Actor): Alert;
  history(id: string): HistoryEntry[];
  silences(): Silence[];
  addSilence(input: unknown, actor: Actor): Silence;
  removeSilence(id: string, actor: Actor): void;
  rules(): RuleStatus[];
  /** Reads the rules again from where they came from; a ConfigError names the rule and field. */
  reload(actor: Actor): { rules: number };
}

export interface RulesOptions {
  rules: readonly RuleDef[];
  /** Where `reload` reads the rules from; without it, reload answers 409. */
  source?: () => RuleDef[];
  dataDir: string;
  estate: Estate;
  clock: Clock;
  logger: Logger;
  /** `notify:` from the config (receivers, routes, escalation); no notifications without it. */
  notify?: unknown;
  /** Alert changes a person or a silence made (socket.io, MQTT `alerts/{id}`). */
  publish: (changes: readonly AlertChange[]) => void;
}

/** The rules engine with its alerts kept under the data directory, and the desk the REST routes call. */
export function openRules(o: RulesOptions): { engine: RuleEngine; desk: AlertDesk; journal: AlertJournal; notifier?: Notifier; close(): void } {
  const notifyConfig = o.notify === undefined ? undefined : parseNotifyConfig(o.notify);
  const journal = new AlertJournal(join(o.dataDir, 'alerts'), o.logger);
  const saved = journal.load();
  // A saved object that no longer validates (a silence with a regex an older version let through) is
  // set aside with a log line, never fatal: it would otherwise stop every start until its endsAt.
  const admitted = admitSilences(saved.silences);
  journal.setAside([...saved.rejected, ...admitted.rejected.map((r) => ({ what: 'silence', item: r.silence, reason: r.reason }))], o.clock.now());
  const silenceBook = new SilenceBook(admitted.kept);
  const engine = new RuleEngine({
    onError: (where, err) => o.logger.error({ where, err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'rules: evaluation failed; skipped'),
    rules: o.rules,
    clock: o.clock,
    tagsOf: (d) => o.estate.tagsOf(d),
    expectedIntervalOf: (d) => {
      const device = o.estate.devices.get(d);
      if (!device) return undefined;
      const { seconds, stated } = expectedIntervalOf(device);
      return { ms: seconds * 1000, stated };
    },
    ancestorsOf: dependencyTree(o.estate),
    silences: silenceBook,
    restore: saved.alerts,
  });
  engine.book.listen((_alert, entry) => journal.record(entry));
  journal.source(() => ({ alerts: engine.book.all(), silences: silenceBook.list() }));

  const desk: AlertDesk = {
    act(id, action, actor) {
      const alert = engine.get(id);
      if (!alert) throw notFound(`alert "${id}"`);
      if (!mayActOn(actor.role, alert.kind)) throw forbidden();
      const next = engine.act(id, action, actor.username) as Alert;
      o.publish([next]);
      return next;
    },
    history(id) {
      if (!engine.get(id) && journal.history(id).length === 0) throw notFound(`alert "${id}"`);
      return journal.history(id);
    },
    silences: () => silenceBook.list(),
    addSilence(input, actor) {
      if (actor.role === 'viewer') throw forbidden();
      const parsed = SilenceInput.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = fieldOf(issue?.path ?? []);
        throw badRequest(field, `${field}: ${issue?.message ?? 'invalid'}`);
      }
      const now = o.clock.now();
      if (parsed.data.endsAt <= (parsed.data.startsAt ?? now)) throw badRequest('endsAt', 'endsAt: must be after startsAt (or now)');
      // A silence covers only the kinds its author's role acts on: a kind named outside them is refused;
      // without `kinds`, a noc or soc silence is stored restricted to its author's kinds (shown in the answer).
      const allowed = kindsOf(actor.role);
      const wanted = { ...parsed.data };
      if (wanted.kinds) {
        const i = wanted.kinds.findIndex((k) => !mayActOn(actor.role, k));
        if (i >= 0) throw forbidden(`kinds[${i}]: a ${actor.role} user may not silence ${wanted.kinds[i]} alerts (only ${allowed.join(', ')})`, `kinds[${i}]`);
      } else if (allowed.length < AlertKind.options.length) wanted.kinds = allowed;
      const s = silenceBook.add(wanted, actor.username, now);
      journal.changed();
      o.publish(engine.refreshSilences(now));
      return s;
    },
    removeSilence(id, actor) {
      if (actor.role === 'viewer') throw forbidden();
      const s = silenceBook.get(id);
      if (!s) throw notFound(`silence "${id}"`);
      // Expiring another's silence takes the right to act on every kind it covers (its author's is always theirs).
      const other = s.kinds ?? AlertKind.options;
      const denied = s.createdBy === actor.username ? undefined : other.find((k) => !mayActOn(actor.role, k));
      if (denied) throw forbidden(`silence "${id}" by ${s.createdBy} covers ${denied} alerts, which a ${actor.role} user may not act on`);
      silenceBook.remove(id);
      journal.changed();
      o.publish(engine.refreshSilences(o.clock.now()));
    },
    rules: () => engine.rules(),
    reload(actor) {
      if (actor.role !== 'admin') throw forbidden();
      if (!o.source) throw conflict('the rules were given inline; there is no file to reload');
      let rules: RuleDef[];
      try {
        rules = o.source();
      } catch (err) {
        const e = err as ConfigError;
        throw wfFieldError('RULES', 'rules', e.issues ? `rules not reloaded: ${e.issues.join('; ')}` : `rules not reloaded: ${e.message}`);
      }
      o.publish(engine.reload(rules));
      o.logger.info({ rules: rules.length, by: actor.username }, 'rules reloaded');
      return { rules: rules.length };
    },
  };
  const notifier = notifyConfig ? startNotifier({ config: notifyConfig, book: engine.book, clock: o.clock, logger: o.logger, dir: join(o.dataDir, 'alerts') }) : undefined;
  return {
    engine, desk, journal, notifier,
    close: () => {
      notifier?.stop();
      journal.save();
    },
  };
}
