/**
 * The alerts a service should have firing now, as AlertBook openings (pure): down and degraded of
 * kind `availability` naming the service, linked to the alerts of what it runs on (not repeated), and
 * the error-budget burn alerts. A service in maintenance raises nothing (its window silences it).
 */
import type { Severity } from '../../core/index.ts';
import type { Opening } from '../alert-book.ts';
import type { BurnAlert } from './burn-rate.ts';
import type { Service } from './schema.ts';
import type { ServiceStatus } from './state.ts';

/** Rule names of service alerts; the wiring closes a firing one whose rule starts so and is no longer wanted. */
export const SERVICE_RULE_PREFIX = 'service.';

const BURN_SEVERITY: Record<BurnAlert['severity'], Severity> = { page: 'critical', ticket: 'warning' };

/**
 * The openings wanted at `now`. `alertsOf(id)` gives the firing alert ids of a device or link the
 * service depends on, which become `related` of the service's down alert.
 */
export function serviceAlertOpenings(service: Service, status: ServiceStatus, burn: readonly BurnAlert[], now: number, alertsOf: (dependencyId: string) => string[] = () => []): Opening[] {
  if (status.state === 'maintenance') return [];
  const labels = { service: service.id };
  const out: Opening[] = [];
  if (status.state === 'down' || status.state === 'degraded') {
    const related = status.causes.flatMap(alertsOf);
    out.push({
      rule: `${SERVICE_RULE_PREFIX}${status.state}`,
      name: status.state === 'down' ? `Service down: ${service.name}` : `Service degraded: ${service.name}`,
      kind: 'availability',
      severity: status.state === 'down' ? 'critical' : 'warning',
      labels,
      summary: status.reason ?? `${service.id} ${status.state}`,
      value: null,
      startsAt: now,
      ...(related.length > 0 ? { related } : {}),
    });
  }
  for (const b of burn) {
    out.push({
      rule: `${SERVICE_RULE_PREFIX}burn.${b.longWindow}-${b.shortWindow}`,
      name: `Error budget burning: ${service.name}`,
      kind: 'availability',
      severity: BURN_SEVERITY[b.severity],
      labels,
      summary: `${service.id}: error budget burning ${b.longBurnRate}x over ${b.longWindow} and ${b.shortBurnRate}x over ${b.shortWindow} (threshold ${b.threshold}x); ${b.budgetSpentPct} % of the budget spent in ${b.longWindow}`,
      value: b.longBurnRate,
      startsAt: now,
    });
  }
  return out;
}
