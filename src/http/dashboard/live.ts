import type { IncomingMessage, ServerResponse } from "node:http";
import { runner } from "../../db.js";
import type { Queue } from "../../queue.js";
import { jobsChannel } from "../../schema-name.js";
import type { Sql } from "../../sql/query.js";
import { tableChanges } from "../../sql/tableChanges.js";
import { Notifier } from "../../notifier.js";
import type { Principal } from "../auth.js";
import { errorResponse } from "../errors.js";
import { readSnapshot, scopedSnapshot, type Snapshot } from "./snapshot.js";

/** How the live feed paces itself. */
export interface LiveTiming {
  /** How often the change counter is read while pages are open. @default 1000 */
  checkMs: number;
  /** The least time between two reads of the snapshot, however many changes and notifications come. @default 2000 */
  minRefreshMs: number;
  /** The least time between two reads of the throughput (the rest of a snapshot is read more often). @default 10000 */
  throughputMs: number;
  /** How often an idle stream gets a keep-alive line, so pages can tell a live stream from a dead one. @default 15000 */
  pingMs: number;
  /** A stream ends after this long and the page opens a new one, which checks its key again. @default 300000 */
  maxStreamMs: number;
}

export const LIVE_TIMING: LiveTiming = Object.freeze({ checkMs: 1000, minRefreshMs: 2000, throughputMs: 10_000, pingMs: 15_000, maxStreamMs: 300_000 });

/** The most bytes an event stream may hold unsent before it is ended. */
const MAX_BUFFERED = 1024 * 1024;

interface Listener {
  readonly principal: Principal;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
}

/**
 * The dashboard's live updates: one feed per handler, shared by every open
 * page. While at least one page listens it holds one LISTEN connection on
 * the schema's jobs channel (enqueues, retries and resumes notify it) and
 * reads the cheap change counter (`tableChanges`) every second for what does
 * not notify (claims, completions, failures, worker heartbeats). When either
 * says something changed, it reads the snapshot once (statistics and workers
 * at most every 2 s, throughput at most every 10 s: the first two are passes
 * over the jobs table) and sends each page its share as a Server-Sent Event. So the
 * database sees the same few statements whether one page is open or fifty,
 * and none at all when no page is.
 */
export class LiveFeed {
  readonly #queue: Queue;
  readonly #sql: Sql;
  readonly #timing: LiveTiming;
  readonly #listeners = new Set<Listener>();
  #notifier: Notifier | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #laterTimer: NodeJS.Timeout | undefined;
  #changes: string | undefined;
  #latest: Snapshot | undefined;
  #refreshing = false;
  #again = false;
  #lastRefresh = 0;
  #throughputAt = 0;
  #databaseUp = true;
  readonly #onError: (error: unknown, req: IncomingMessage) => void;

  /** `onError` gets unexpected errors (not an unreachable database), with the request of a page listening then. */
  constructor(queue: Queue, timing: Partial<LiveTiming> = {}, onError: (error: unknown, req: IncomingMessage) => void = () => {}) {
    this.#queue = queue;
    this.#sql = { schema: queue.schema, run: runner(queue.pool, true) };
    this.#timing = { ...LIVE_TIMING, ...timing };
    this.#onError = onError;
  }

  /** Pages listening now. */
  get listeners(): number {
    return this.#listeners.size;
  }

  /** Turns `res` into an event stream for `principal` until the page goes away. */
  attach(principal: Principal, req: IncomingMessage, res: ServerResponse): void {
    // Set one by one (not through writeHead) so that a server can tell an event stream by its type.
    res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
    res.setHeader("Cache-Control", "no-store");
    res.setHeader("X-Content-Type-Options", "nosniff");
    // Proxies that buffer responses (nginx) must pass each event on at once.
    res.setHeader("X-Accel-Buffering", "no");
    res.writeHead(200);
    res.write("retry: 2000\n\n");
    const listener: Listener = { principal, req, res };
    this.#listeners.add(listener);
    const end = setTimeout(() => res.end(), this.#timing.maxStreamMs);
    end.unref();
    res.once("close", () => {
      clearTimeout(end);
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.#stop();
    });
    if (this.#listeners.size === 1) this.#start();
    if (!this.#databaseUp) this.#write(listener, "database", { up: false });
    if (this.#latest) this.#write(listener, "snapshot", scopedSnapshot(principal, this.#latest));
    else this.#request();
  }

  #start(): void {
    this.#notifier = new Notifier(this.#queue.pool, jobsChannel(this.#queue.schema), {
      onNotify: () => this.#request(),
      onListening: (reconnect) => {
        if (reconnect) this.#request();
      },
      onError: (error) => this.#down(error),
    });
    // A failed first LISTEN is retried by the notifier; the counter covers the gap.
    this.#notifier.start().catch(() => {});
    this.#checkTimer = setInterval(() => void this.#check(), this.#timing.checkMs);
    this.#pingTimer = setInterval(() => {
      for (const listener of this.#listeners) listener.res.write(": ping\n\n");
    }, this.#timing.pingMs);
  }

  async #stop(): Promise<void> {
    clearInterval(this.#checkTimer);
    clearInterval(this.#pingTimer);
    clearTimeout(this.#laterTimer);
    this.#laterTimer = undefined;
    this.#latest = undefined;
    this.#changes = undefined;
    const notifier = this.#notifier;
    this.#notifier = undefined;
    await notifier?.close();
  }

  /** Reads the change counter; a change (or the database coming back) asks for a snapshot. */
  async #check(): Promise<void> {
    try {
      const [row] = await tableChanges(this.#sql, { schema: this.#queue.schema });
      const changes = row?.changes ?? "0";
      if (changes !== this.#changes || !this.#databaseUp) {
        this.#changes = changes;
        this.#request();
      }
    } catch (error) {
      this.#down(error);
    }
  }

  /** Asks for a snapshot: at once, or when the last one is `minRefreshMs` old; never two at a time. */
  #request(): void {
    if (this.#listeners.size === 0) return;
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    const wait = this.#lastRefresh + this.#timing.minRefreshMs - Date.now();
    if (wait > 0) {
      this.#laterTimer ??= setTimeout(() => {
        this.#laterTimer = undefined;
        this.#request();
      }, wait);
      return;
    }
    void this.#refresh();
  }

  async #refresh(): Promise<void> {
    this.#refreshing = true;
    this.#lastRefresh = Date.now();
    try {
      const previous = this.#latest;
      const fresh = previous && Date.now() - this.#throughputAt < this.#timing.throughputMs;
      const snapshot = await readSnapshot(this.#queue, fresh ? previous.throughput : undefined);
      if (!fresh) this.#throughputAt = Date.now();
      if (this.#listeners.size === 0) return;
      this.#latest = snapshot;
      if (!this.#databaseUp) {
        this.#databaseUp = true;
        this.#broadcast("database", () => ({ up: true }));
      }
      this.#broadcast("snapshot", (principal) => scopedSnapshot(principal, snapshot));
    } catch (error) {
      this.#down(error);
    } finally {
      this.#refreshing = false;
      if (this.#again) {
        this.#again = false;
        this.#request();
      }
    }
  }

  #down(error: unknown): void {
    // An unreachable database is expected now and then; anything else is reported.
    const [first] = this.#listeners;
    if (!errorResponse(error).expected && first) this.#onError(error, first.req);
    if (!this.#databaseUp) return;
    this.#databaseUp = false;
    this.#broadcast("database", () => ({ up: false }));
  }

  #broadcast(event: string, data: (principal: Principal) => unknown): void {
    for (const listener of this.#listeners) this.#write(listener, event, data(listener.principal));
  }

  #write(listener: Listener, event: string, data: unknown): void {
    // A page that stopped reading (a stalled connection) would make the
    // events pile up in memory: past a bound its stream ends, and a live page
    // opens a new one.
    if (listener.res.writableLength > MAX_BUFFERED) {
      listener.res.end();
      return;
    }
    // JSON text has no raw newlines, so the whole of it is one `data:` line.
    listener.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
