/**
 * Calls `beat` every `intervalMs` until stopped; a beat never overlaps the
 * previous one. The worker's beat extends all of its leases in one statement.
 */
export class Ticker {
  readonly #intervalMs: number;
  readonly #beat: () => Promise<void>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

  constructor(intervalMs: number, beat: () => Promise<void>) {
    this.#intervalMs = intervalMs;
    this.#beat = beat;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule();
  }

  /** Stops the timer and waits for a beat in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#beat().finally(() => {
        this.#running = undefined;
        this.#schedule();
      });
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
