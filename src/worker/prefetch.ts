/**
 * How many jobs a worker claims beyond its free slots, so that a slot freed
 * by a short job starts the next one without waiting for a round trip.
 *
 * The target follows the handlers' measured duration: enough jobs to keep
 * every slot busy for about `windowMs` (the time a claim takes, with room to
 * spare). Short jobs get a deep buffer (claims of hundreds, the fast path);
 * jobs of a second or more get none, so a busy worker never sits on work an
 * idle worker could take. Nothing is prefetched until a duration is known.
 */
export class Prefetch {
  /** Exponentially weighted mean of handler durations, in ms. */
  #meanMs: number | undefined;

  constructor(
    private readonly concurrency: number,
    private readonly windowMs = 25,
    private readonly max = 1000,
  ) {}

  observe(durationMs: number): void {
    this.#meanMs = this.#meanMs === undefined ? durationMs : this.#meanMs * 0.9 + durationMs * 0.1;
  }

  /** Jobs to hold beyond the free slots. */
  target(): number {
    if (this.#meanMs === undefined) return 0;
    const perSlot = this.windowMs / Math.max(this.#meanMs, 0.025);
    return Math.min(this.max, Math.floor(this.concurrency * perSlot));
  }
}
