/**
 * Error-budget burn alerts: the multi-window, multi-burn-rate rule of the Google SRE workbook
 * ("Alerting on SLOs", recommendation 6). A burn rate of 1 spends the budget exactly over the SLO
 * window; an alert fires when both its long and its short window burn faster than its threshold (the
 * short window makes it stop soon after the burning stops). The workbook's thresholds are for a
 * 30-day window (14.4 = 2 % of the budget in 1 h); for another window they are scaled so each alert
 * still means the same share of the budget spent.
 */

/** The windows the rule reads, by name. */
export const BURN_WINDOWS_MS = {
  '5m': 300_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '6h': 21_600_000,
  '1d': 86_400_000,
  '3d': 259_200_000,
} as const;
export type BurnWindow = keyof typeof BURN_WINDOWS_MS;

/** The workbook's table: share of the budget spent over the long window, its short window, and what it raises. */
export const BURN_POLICY: readonly { severity: 'page' | 'ticket'; long: BurnWindow; short: BurnWindow; budgetShare: number }[] = [
  { severity: 'page', long: '1h', short: '5m', budgetShare: 0.02 },
  { severity: 'page', long: '6h', short: '30m', budgetShare: 0.05 },
  { severity: 'ticket', long: '1d', short: '2h', budgetShare: 0.1 },
  { severity: 'ticket', long: '3d', short: '6h', budgetShare: 0.1 },
];

export interface BurnAlert {
  severity: 'page' | 'ticket';
  longWindow: BurnWindow;
  shortWindow: BurnWindow;
  /** The burn rate both windows must exceed (14.4, 6, 3, 1 for a 30-day SLO). */
  threshold: number;
  longBurnRate: number;
  shortBurnRate: number;
  /** Share of the whole budget the long window spent, in percent. */
  budgetSpentPct: number;
}

/** The burn rate over each window must exceed, for an SLO window of `windowDays`. */
export function burnThreshold(budgetShare: number, long: BurnWindow, windowDays: number): number {
  return Math.round(((budgetShare * windowDays * 86_400_000) / BURN_WINDOWS_MS[long]) * 1000) / 1000;
}

/**
 * The alerts to raise (pure). `errorRatio` gives each window's share of measured time that was down
 * (0..1), or null where nothing was measured (such a window never fires).
 */
export function burnRateAlerts(slo: { availabilityPct: number; windowDays: number }, errorRatio: Partial<Record<BurnWindow, number | null>>): BurnAlert[] {
  const budget = 1 - slo.availabilityPct / 100;
  if (!(budget > 0)) return [];
  const alerts: BurnAlert[] = [];
  for (const p of BURN_POLICY) {
    const longRatio = errorRatio[p.long];
    const shortRatio = errorRatio[p.short];
    if (longRatio === null || longRatio === undefined || shortRatio === null || shortRatio === undefined) continue;
    const threshold = burnThreshold(p.budgetShare, p.long, slo.windowDays);
    const longBurnRate = longRatio / budget;
    const shortBurnRate = shortRatio / budget;
    // Over, not at; the epsilon keeps 1 - 99.9/100 (not exactly 0.001 in binary) from firing at exactly the threshold.
    const over = (rate: number): boolean => rate > threshold * (1 + 1e-9);
    if (over(longBurnRate) && over(shortBurnRate)) {
      const budgetSpentPct = ((longRatio * BURN_WINDOWS_MS[p.long]) / (budget * slo.windowDays * 86_400_000)) * 100;
      alerts.push({ severity: p.severity, longWindow: p.long, shortWindow: p.short, threshold, longBurnRate: round(longBurnRate), shortBurnRate: round(shortBurnRate), budgetSpentPct: round(budgetSpentPct) });
    }
  }
  return alerts;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;
