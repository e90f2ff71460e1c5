/**
 * Throttles the NOTIFY that wakes workers, per Queue. A transaction that
 * NOTIFYs takes a database-wide lock at commit and holds it through the
 * commit's WAL flush, so notifying transactions commit one at a time: with
 * ten concurrent producers, enqueue throughput fell to a third. Here the
 * first enqueue of each `windowMs` carries the NOTIFY (an idle worker still
 * wakes at once); later ones in the window skip it, and one trailing NOTIFY
 * at the end of the window, in a transaction with nothing to flush, wakes
 * the queues they filled.
 */
export class WakeDebounce {
  #last = Number.NEGATIVE_INFINITY;
  readonly #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly windowMs: number,
    private readonly send: (queues: string[]) => Promise<void>,
  ) {}

  /** Whether the statement about to run should carry the NOTIFY itself. */
  lead(): boolean {
    const now = performance.now();
    if (now - this.#last < this.windowMs) return false;
    this.#last = now;
    return true;
  }

  /** Queues that got runnable jobs without a NOTIFY: they are woken when the window ends. */
  trail(queues: Iterable<string>): void {
    for (const queue of queues) this.#pending.add(queue);
    if (this.#pending.size === 0 || this.#timer) return;
    const wait = Math.max(0, this.#last + this.windowMs - performance.now());
    this.#timer = setTimeout(() => void this.flush(), wait);
  }

  /** Sends the trailing NOTIFY now (if one is due) and waits for it. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size > 0) {
      const queues = [...this.#pending];
      this.#pending.clear();
      this.#last = performance.now();
      // A lost wake-up costs latency, not data: workers poll.
      this.#sending = this.#sending.then(() => this.send(queues).catch(() => {}));
    }
    return this.#sending;
  }
}
