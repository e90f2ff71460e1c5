import { coerceError } from "../errors.js";
import { Ticker } from "../ticker.js";
import type { Duty } from "./duty.js";

/**
 * Runs a worker's maintenance duties, each on its own ticker. A pass that
 * fails is reported and tried again at the next interval; one pass of a duty
 * never overlaps the next.
 */
export class Maintainer {
  readonly #duties: readonly Duty[];
  readonly #tickers: Ticker[];
  readonly #onError: (error: Error, doing: string) => void;
  /** Passes started outside the tickers (the ones at start): stop() waits for them too. */
  readonly #passes = new Set<Promise<void>>();

  constructor(duties: readonly Duty[], onError: (error: Error, doing: string) => void) {
    this.#duties = duties;
    this.#onError = onError;
    this.#tickers = duties.map((duty) => new Ticker(duty.intervalMs, () => this.#pass(duty)));
  }

  start(): void {
    for (const ticker of this.#tickers) ticker.start();
    for (const duty of this.#duties) {
      if (!duty.atStart) continue;
      const pass = this.#pass(duty);
      this.#passes.add(pass);
      void pass.finally(() => this.#passes.delete(pass));
    }
  }

  /** Asks the passes in progress to end early (at the start of a stop). */
  interrupt(): void {
    for (const duty of this.#duties) duty.interrupt?.();
  }

  /** Stops the tickers and waits for every pass in progress. */
  async stop(): Promise<void> {
    this.interrupt();
    await Promise.all(this.#tickers.map((t) => t.stop()));
    await Promise.all(this.#passes);
  }

  async #pass(duty: Duty): Promise<void> {
    try {
      duty.report(await duty.runOnce());
    } catch (error) {
      this.#onError(coerceError(error), duty.doing);
    }
  }
}
