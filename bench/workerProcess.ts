import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));

/** A worker process (bench/child.ts) that has loaded its system and waits for "go". */
export interface WorkerProcess {
  process: ChildProcess;
  /** Resolves with the next line the child prints that starts with `word`. */
  next(word: string): Promise<string>;
  /** How many jobs its handler has run so far. */
  handled(): Promise<number>;
  /** Sends a command line. */
  send(line: string): void;
  /** Stops the worker and waits for the process to say so. */
  stop(): Promise<void>;
}

/** Starts `bench/child.ts` for a system, configuration, database and concurrency, on this Node. */
export function spawnWorker(system: string, config: string, url: string, concurrency: number): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, system, config, url, String(concurrency)], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting = new Map<string, (line: string) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const word = line.split(" ")[0]!;
    const resolve = waiting.get(word);
    waiting.delete(word);
    resolve?.(line);
  });
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`worker process exited with ${code}`))));
  exited.catch(() => {});
  const next = (word: string) => Promise.race([new Promise<string>((resolve) => waiting.set(word, resolve)), exited]);
  const send = (line: string) => void child.stdin!.write(`${line}\n`);
  return {
    process: child,
    next,
    send,
    async handled() {
      const line = next("handled");
      send("handled");
      return Number((await line).split(" ")[1]);
    },
    async stop() {
      const stopped = next("stopped");
      send("stop");
      await stopped;
    },
  };
}
