/**
 * Samples of one series over a rate rule's window, in a fixed ring: at most SLOTS samples, one kept
 * per window/(SLOTS-1), so memory is bounded whatever the sensor's interval and a value costs no
 * allocation.
 */
const SLOTS = 33;

export class RateWindow {
  private readonly ts = new Float64Array(SLOTS);
  private readonly values = new Float64Array(SLOTS);
  private head = 0;
  private size = 0;

  constructor(private readonly windowMs: number) {}

  /**
   * Records a value at `now` and returns the change since the oldest sample still inside the
   * window (Prometheus's delta), or NaN when there is none yet to compare with.
   */
  push(value: number, now: number): number {
    const start = now - this.windowMs;
    // Drop samples that fell out of the window, but keep the newest of them as the baseline when
    // nothing newer is left, so a sensor reporting exactly once per window still compares.
    while (this.size > 1 && this.ts[(this.head - this.size + 1 + SLOTS) % SLOTS]! <= start) this.size--;
    let delta = Number.NaN;
    if (this.size > 0) {
      const oldest = (this.head - this.size + SLOTS) % SLOTS;
      // A baseline from long before the window (the sensor was away) says nothing about this window.
      if (now - this.ts[oldest]! <= 2 * this.windowMs) delta = value - this.values[oldest]!;
    }
    const last = (this.head - 1 + SLOTS) % SLOTS;
    if (this.size === 0 || now - this.ts[last]! >= this.windowMs / (SLOTS - 1)) {
      this.ts[this.head] = now;
      this.values[this.head] = value;
      this.head = (this.head + 1) % SLOTS;
      if (this.size < SLOTS) this.size++;
    }
    return delta;
  }
}
