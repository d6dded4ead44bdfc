/**
 * A service's state now, from its checks' latest states (the scheduler's: pending, up, down after the
 * retries), its maintenance windows and the state of what it runs on (pure; the time comes in).
 */
import type { MaintenanceWindow } from '../../core/index.ts';
import type { Service } from './schema.ts';

/** "pending" only while no check has reported yet (or the service has no check). */
export type ServiceState = 'up' | 'degraded' | 'down' | 'maintenance' | 'pending';

/** A check's latest word, as the book keeps it. */
export interface CheckStatus {
  key: string;
  type: string;
  state: 'pending' | 'up' | 'down';
  /** When the latest probe started. */
  at?: number;
  ok?: boolean;
  latencyMs?: number;
  reason?: string;
  warning?: string;
}

/** Whether a device or link the service depends on is down, and how to say it ("vm-portal-1 unreachable"). */
export type DependencyStatus = (id: string) => { down: boolean; reason?: string } | undefined;

export interface ServiceStatus {
  state: ServiceState;
  /** Why it is down or degraded, naming what it runs on that is itself down first. */
  reason?: string;
  /** The dependencies that are down: their own alerts are the cause, linked from the service's, not repeated. */
  causes: string[];
  /** The maintenance window in force, when state is maintenance. */
  maintenance?: MaintenanceWindow;
}

/** The window in force at `now`, if any. */
export function activeWindow(windows: readonly MaintenanceWindow[], now: number): MaintenanceWindow | undefined {
  return windows.find((w) => w.from <= now && now < w.to);
}

/**
 * The service's state: maintenance while a window is in force; down when any check is down; degraded
 * when a check is up with a warning (a certificate near expiry) or its latest probe failed within its
 * retries; up when a check is up; pending before any result.
 */
export function serviceStatus(service: Service, checks: readonly CheckStatus[], windows: readonly MaintenanceWindow[], now: number, dependency?: DependencyStatus): ServiceStatus {
  const inForce = activeWindow(windows, now);
  const downDeps = service.dependsOn.map((id) => ({ id, s: dependency?.(id) })).filter((d) => d.s?.down);
  const causes = downDeps.map((d) => d.id);
  if (inForce) return { state: 'maintenance', causes, maintenance: inForce, ...(inForce.reason ? { reason: inForce.reason } : {}) };
  const down = checks.filter((c) => c.state === 'down');
  if (down.length > 0) {
    const because = downDeps.length > 0 ? downDeps.map((d) => d.s?.reason ?? `${d.id} down`) : down.map((c) => `${c.key}: ${c.reason ?? 'down'}`);
    return { state: 'down', reason: `${service.id} down: ${because.join(', ')}`, causes };
  }
  const shaky = checks.filter((c) => c.state === 'up' && (c.warning !== undefined || c.ok === false));
  if (shaky.length > 0) {
    const words = shaky.map((c) => `${c.key}: ${c.ok === false ? (c.reason ?? 'probe failed, retrying') : c.warning}`);
    return { state: 'degraded', reason: `${service.id} degraded: ${words.join(', ')}`, causes };
  }
  if (checks.some((c) => c.state === 'up')) return { state: 'up', causes };
  return { state: 'pending', causes };
}
