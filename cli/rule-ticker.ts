import type { Clock, Logger } from '../core/index.ts';
import type { RuleEngine } from '../rules/index.ts';
import type { Fanout } from './fanout.ts';

/** Every second, the rules' time-driven transitions (for, nodata, repeat); their changes to the fan-out. Returns the stop. */
export function startRuleTicker(rules: RuleEngine, fanout: Fanout, clock: Clock, logger: Logger): () => void {
  const ticker = setInterval(() => {
    // A throw from a timer is an uncaught exception: guarded, logged and counted, never fatal.
    try {
      const changes = rules.tick(clock.now());
      if (changes.length > 0) fanout.alerts(changes);
    } catch (err) {
      rules.evaluationErrors++;
      logger.error({ err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'rules: tick failed; skipped');
    }
  }, 1000);
  ticker.unref();
  return () => clearInterval(ticker);
}
