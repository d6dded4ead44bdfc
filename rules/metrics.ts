import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertFilter } from './alert-book.ts';

/** What the figures read from the rule engine (engine.ts) at scrape time. */
interface RuleFigures {
  alerts(filter: AlertFilter): readonly unknown[];
  readonly evaluationErrors: number;
}

/** Registers the rules' figures on a Prometheus registry: alerts firing, evaluation time and values, evaluation errors. */
export function registerRuleMetrics(registry: Registry, rules: RuleFigures, evaluationTime: { readonly seconds: number; readonly values: number }): void {
  new Gauge({ name: 'watchfloor_alerts_firing', help: 'alerts firing now', registers: [registry], collect() { this.set(rules.alerts({ state: 'firing' }).length); } });
  // Running totals: the counter is set to the tally at scrape time (prom-client counters have no set()).
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers: [registry], collect() { this.reset(); this.inc(read()); } });
  };
  // Counters, so rate(seconds) / rate(values) gives the mean evaluation cost per value over any window.
  counter('watchfloor_rules_evaluation_seconds_total', 'time spent evaluating rules on incoming values', () => evaluationTime.seconds);
  counter('watchfloor_rules_evaluated_values_total', 'incoming values evaluated by the rules', () => evaluationTime.values);
  counter('watchfloor_rules_evaluation_errors_total', 'rule evaluations that threw and were skipped (logged; the product goes on)', () => rules.evaluationErrors);
}
