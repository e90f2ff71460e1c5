import type pg from "pg";
import { coerceError } from "./errors.js";
import { listen, unlisten } from "./sql/listen.js";

export interface NotifierHooks {
  /** A notification arrived: a queue name (work to claim), or `cancel <job id>` (see queue.cancel). */
  onNotify(payload: string): void;
  /** The LISTEN is in place (again). After a reconnect the caller should look for work it may have missed. */
  onListening(reconnect: boolean): void;
  onError(error: Error): void;
}

/**
 * Holds one connection that LISTENs on the schema's jobs channel. If the
 * connection drops, it reconnects with jittered exponential backoff
 * (100 ms doubling to 30 s) until closed; polling covers the gap.
 */
export class Notifier {
  readonly #pool: pg.Pool;
  readonly #channel: string;
  readonly #hooks: NotifierHooks;
  #client: pg.PoolClient | undefined;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #connected = false;
  /** The error listener on the client checked out now. */
  #onError: ((error: Error) => void) | undefined;

  constructor(pool: pg.Pool, channel: string, hooks: NotifierHooks) {
    this.#pool = pool;
    this.#channel = channel;
    this.#hooks = hooks;
  }

  /** Resolves once the first LISTEN is in place, or rejects if it could not be (reconnecting goes on). */
  async start(): Promise<void> {
    await this.#connect(false);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      await client.query(unlisten(this.#channel)).catch(() => {});
      this.#detach(client);
      client.release();
    }
  }

  async #connect(reconnect: boolean): Promise<void> {
    if (this.#closed) return;
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      client.on("notification", (message) => this.#hooks.onNotify(message.payload ?? ""));
      const taken = client;
      this.#onError = (error) => this.#lost(taken, error);
      client.on("error", this.#onError);
      await client.query(listen(this.#channel));
      if (this.#closed) {
        this.#detach(client);
        client.release();
        return;
      }
      this.#client = client;
      this.#failures = 0;
      this.#connected = true;
      this.#hooks.onListening(reconnect);
    } catch (error) {
      if (client) this.#lost(client, coerceError(error));
      else this.#scheduleRetry(coerceError(error));
      if (!reconnect) throw error;
    }
  }

  #lost(client: pg.PoolClient, error: Error): void {
    if (this.#client === client) this.#client = undefined;
    this.#detach(client);
    // A broken connection can still report errors while it is torn down.
    client.on("error", () => {});
    // Destroy the broken connection instead of returning it to the pool.
    try {
      client.release(error);
    } catch {
      // released already
    }
    this.#scheduleRetry(error);
  }

  /**
   * Takes this notifier's listeners off a client leaving it: back in the
   * pool, the client must not report its errors or notifications here. The
   * pool's own error handler covers an idle client from then on.
   */
  #detach(client: pg.PoolClient): void {
    client.removeAllListeners("notification");
    if (this.#onError) client.removeListener("error", this.#onError);
  }

  #scheduleRetry(error: Error): void {
    if (this.#closed || this.#retryTimer) return;
    if (this.#connected || this.#failures === 0) this.#hooks.onError(error);
    this.#connected = false;
    const delay = Math.min(30_000, 100 * 2 ** this.#failures) * (0.5 + Math.random() / 2);
    this.#failures++;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      void this.#connect(true).catch(() => {});
    }, delay);
    this.#retryTimer.unref();
  }
}
