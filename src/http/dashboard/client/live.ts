import { authHeaders, base } from "./api.js";

export type LiveState = "connecting" | "live" | "offline" | "database-down";

export interface LiveHooks {
  onSnapshot(data: unknown): void;
  onState(state: LiveState): void;
  /** The key was refused (revoked): the page asks for another. */
  onUnauthorized(): void;
}

/** No byte for this long (the server pings every 15 s) means the stream is dead. */
const SILENCE_MS = 40_000;

/**
 * The server's event stream (`GET /events`), read with `fetch` so that the
 * key goes in the `Authorization` header (`EventSource` cannot send one).
 * Reconnects after a dropped stream, a server restart or a long silence,
 * backing off from 0.5 s to 10 s with jitter while the server is away.
 */
export function connectLive(hooks: LiveHooks): () => void {
  let stopped = false;
  let controller: AbortController | undefined;
  let failures = 0;

  const run = async () => {
    while (!stopped) {
      hooks.onState("connecting");
      controller = new AbortController();
      let watchdog: number | undefined;
      const feed = () => {
        clearTimeout(watchdog);
        watchdog = window.setTimeout(() => controller?.abort(), SILENCE_MS);
      };
      try {
        const response = await fetch(`${base}/events`, { headers: authHeaders(), signal: controller.signal, cache: "no-store" });
        if (response.status === 401) {
          hooks.onUnauthorized();
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        failures = 0;
        hooks.onState("live");
        feed();
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          feed();
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            dispatch(buffer.slice(0, end), hooks);
            buffer = buffer.slice(end + 2);
          }
        }
      } catch {
        failures++;
      } finally {
        clearTimeout(watchdog);
      }
      if (stopped) return;
      hooks.onState("offline");
      const delay = failures === 0 ? 250 : Math.min(10_000, 500 * 2 ** (failures - 1)) * (0.75 + Math.random() / 2);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };

  function dispatch(block: string, hooks: LiveHooks): void {
    let event = "message";
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trimStart();
    }
    if (!data) return;
    let parsed: any;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    if (event === "snapshot") hooks.onSnapshot(parsed);
    else if (event === "database") hooks.onState(parsed.up ? "live" : "database-down");
  }
}
