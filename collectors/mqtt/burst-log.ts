import type { Logger } from '../../core/index.ts';

/**
 * Logs the first occurrence of a (device, reason) and then at most once a window, with the count
 * swallowed in between, so a device spamming bad payloads cannot flood the log.
 */
export class BurstLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 10_000,
  ) {}

  warn(now: number, device: string, reason: string, detail: string): void {
    const key = `${device}\u0000${reason}`;
    const seen = this.last.get(key);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    this.logger.warn({ device, reason, detail, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) }, `ingest: dropped message from ${device} (${reason}): ${detail}`);
  }
}
