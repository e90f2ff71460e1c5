import { coerceError } from "../errors.js";
import type { Sql } from "../sql/query.js";
import { workerGone, workerRegister, workerSeen, type WorkerIdentity } from "../sql/workerPresence.js";
import { Ticker } from "../ticker.js";

export interface PresenceOptions {
  sql: Sql;
  identity: WorkerIdentity;
  /** How often the row's `seen_at` and `running` are brought up to date: the lease heartbeat's interval. */
  intervalMs: number;
  /** Handlers running now. */
  running(): number;
  report(error: Error, doing: string): void;
}

/**
 * The worker's row in `workers`: inserted at start, kept current on a timer
 * (one small update per interval, whatever the load), deleted at stop. Only
 * the insert at start may fail the start; a failed update or delete is
 * reported and the worker goes on (a row left behind is pruned after an
 * hour).
 */
export class Presence {
  readonly #o: PresenceOptions;
  readonly #ticker: Ticker;
  #registered = false;

  constructor(options: PresenceOptions) {
    this.#o = options;
    this.#ticker = new Ticker(options.intervalMs, () => this.#seen());
  }

  async start(): Promise<void> {
    await workerRegister(this.#o.sql, this.#o.identity);
    this.#registered = true;
    this.#ticker.start();
  }

  /** Stops the updates and deletes the row, if `start` inserted it. */
  async stop(): Promise<void> {
    await this.#ticker.stop();
    if (!this.#registered) return;
    this.#registered = false;
    try {
      await workerGone(this.#o.sql, { id: this.#o.identity.id });
    } catch (error) {
      this.#o.report(coerceError(error), "removing the worker's row");
    }
  }

  async #seen(): Promise<void> {
    try {
      await workerSeen(this.#o.sql, { ...this.#o.identity, running: this.#o.running() });
    } catch (error) {
      this.#o.report(coerceError(error), "recording that the worker is alive");
    }
  }
}
