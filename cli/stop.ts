/** One step of stopping the product: what it stops, and how. */
export type StopStep = readonly [what: string, stop: () => unknown];

/**
 * The product's stop, in an order that matters (stopWatchfloor in cli/app.ts lists it): once it begins,
 * `stopping` is true, so the connections the broker closes and the fleet's goodbyes are not outages.
 */
export class Shutdown {
  private begun = false;

  /** True once stop() began. */
  readonly stopping = (): boolean => this.begun;

  /** Runs the steps one after another; a step that fails stops the rest and rejects. */
  async run(steps: readonly StopStep[]): Promise<void> {
    this.begun = true;
    for (const [, stop] of steps) await stop();
  }
}
