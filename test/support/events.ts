/** A Server-Sent Events stream read with fetch, the way the dashboard reads it. */
export interface EventReader {
  readonly status: number;
  readonly headers: Headers;
  /** The next event named `name` whose data satisfies `accept`, within `timeoutMs`. */
  next<T = any>(name: string, accept?: (data: T) => boolean, timeoutMs?: number): Promise<T>;
  close(): void;
}

export async function openEvents(url: string, key?: string): Promise<EventReader> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {}, signal: controller.signal });
  const events: Array<{ name: string; data: any }> = [];
  let wake: (() => void) | undefined;
  let ended = false;
  if (response.ok && response.body) {
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let name = "message";
            let data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) name = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).trim();
            }
            if (data) events.push({ name, data: JSON.parse(data) });
            wake?.();
          }
        }
      } catch {
        // aborted
      } finally {
        ended = true;
        wake?.();
      }
    })();
  } else {
    await response.text().catch(() => "");
  }
  return {
    status: response.status,
    headers: response.headers,
    async next(name, accept = () => true, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = events.findIndex((e) => e.name === name && accept(e.data));
        if (index >= 0) {
          const [event] = events.splice(0, index + 1).slice(-1);
          return event!.data;
        }
        if (ended) throw new Error(`The stream ended before a \`${name}\` event came`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`No \`${name}\` event within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    close: () => controller.abort(),
  };
}
