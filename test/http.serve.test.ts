/**
 * `djps serve` and `djps keys` in child processes: the standalone server with
 * keys made on the command line, the curl examples run against it, and a
 * graceful shutdown on SIGTERM that lets a request in flight finish.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { useTestBed } from "./support/bed.js";
import { runCli } from "./support/cli.js";
import { freePort } from "./support/postgres.js";

const bed = useTestBed("http_serve");
const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const curlScript = fileURLToPath(new URL("../examples/http/curl.sh", import.meta.url));
const hasCurl = spawnSync("curl", ["--version"]).status === 0;
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
});

const djps = (...args: string[]) => runCli([...args, "--schema", bed.db.schema], { DATABASE_URL: bed.db.url });

/** Starts `djps serve` and resolves once it listens, with its URL and its output so far. */
function startServe(...args: string[]): Promise<{ child: ChildProcess; url: string; lines: string[]; exited: Promise<number | null> }> {
  return startServer("serve", args);
}

/** Starts `djps serve` or `djps dashboard`, resolving once it says where it listens. */
async function startServer(command: "serve" | "dashboard", args: string[]): Promise<{ child: ChildProcess; url: string; lines: string[]; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, command, "--schema", bed.db.schema, ...args], {
    env: { ...process.env, DATABASE_URL: bed.db.url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const m = /(?:listening on|open) (http\S+?)\/?(?: |$)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`djps serve exited ${code}: ${stderr}`)));
  });
  return { child, url, lines, exited };
}

let key: string;
beforeAll(async () => {
  const created = await djps("keys", "create", "--name", "ci", "--json");
  expect(created.code).toBe(0);
  key = JSON.parse(created.stdout).key;
});

describe("djps keys", () => {
  it("creates, lists and revokes keys", async () => {
    const created = await djps("keys", "create", "--name", "billing", "--queues", "billing,ledger", "--read-only", "--rate", "100/1s", "--json");
    expect(created.code).toBe(0);
    const json = JSON.parse(created.stdout);
    expect(json).toMatchObject({ name: "billing", queues: ["billing", "ledger"], readOnly: true, rate: { limit: 100, periodMs: 1000 }, revokedAt: null });
    expect(json.key).toMatch(/^djps_/);
    expect(json.id).toMatch(/^[0-9a-f-]{36}$/);

    const human = await djps("keys", "create", "--name", "plain");
    expect(human.stdout).toMatch(/^Created API key \S+ \(plain\)\.\nKey \(shown once, store it now\): djps_\S+\nQueues: all; read-write; rate: no limit\n$/);

    const listed = await djps("keys", "list");
    expect(listed.stdout).toMatch(/billing\s+billing,ledger\s+read-only\s+100\/1000ms/);
    expect(listed.stdout).not.toContain(json.key);

    const revoked = await djps("keys", "revoke", json.id, "--json");
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout).revokedAt).not.toBeNull();
    const missing = await djps("keys", "revoke", "0190d0c0-0000-7000-8000-000000000000");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("djps: No API key with id `0190d0c0-0000-7000-8000-000000000000`\n");
  });

  it("refuses bad flags naming them", async () => {
    const rate = await djps("keys", "create", "--name", "x", "--rate", "fast");
    expect(rate.code).toBe(1);
    expect(rate.stderr).toContain("Expected `--rate` to be a rate like `100/1s`");
    const queues = await djps("keys", "create", "--name", "x", "--queues", "a,no spaces");
    expect(queues.code).toBe(1);
    expect(queues.stderr).toContain("`--queues`");
    const name = await djps("keys", "create");
    expect(name.code).toBe(2);
    expect(name.stderr).toContain("--name is required");
  });
});

describe("djps serve", () => {
  it("serves the API with keys, and shuts down gracefully on SIGTERM", async () => {
    const port = await freePort();
    const serving = await startServe("--port", String(port));
    expect(serving.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${serving.url}/health`)).status).toBe(200);
    expect((await fetch(`${serving.url}/stats`)).status).toBe(401);
    expect((await fetch(`${serving.url}/stats`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);

    // A connection the server has surely accepted (it answered on it), then
    // a request on it in flight: the headers and half its body; then SIGTERM.
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.on("data", (d) => (answer += d));
    socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise<void>((resolve) => {
      const check = () => (answer.includes('{"status":"ok"}') ? resolve() : setTimeout(check, 5));
      check();
    });
    answer = "";
    const body = JSON.stringify({ type: "late", payload: 1 });
    socket.write(`POST /jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 4)}`);
    serving.child.kill("SIGTERM");
    await new Promise<void>((resolve) => {
      const check = () => (serving.lines.some((l) => l.includes("SIGTERM")) ? resolve() : setTimeout(check, 10));
      check();
    });
    // New connections are refused now; the one in flight is answered.
    await expect(fetch(`${serving.url}/health`)).rejects.toThrow();
    socket.write(body.slice(4));
    // Answered, with the connection closed after it (the server is going away).
    await new Promise((resolve) => socket.once("close", resolve));
    expect(answer).toMatch(/^HTTP\/1\.1 201 /);
    expect(answer.toLowerCase()).toContain("connection: close");
    expect(await serving.exited).toBe(0);
    expect(serving.lines.at(-1)).toBe("djps serve: stopped");
    const { jobs } = await bed.queue.listJobs({ type: "late" });
    expect(jobs).toHaveLength(1);
  });

  it("refuses --no-auth on an address other machines can reach, and serves without keys on loopback", async () => {
    const refused = await djps("serve", "--no-auth", "--host", "0.0.0.0", "--port", "0");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("Refusing to serve without API keys on `0.0.0.0`");
    const serving = await startServe("--no-auth", "--port", "0", "--base-path", "/djps");
    expect(serving.lines[0]).toContain("(no API keys: every request may do anything)");
    expect(serving.url).toMatch(/\/djps$/);
    expect((await fetch(`${serving.url}/stats`)).status).toBe(200);
    serving.child.kill("SIGINT");
    expect(await serving.exited).toBe(0);
  });

  it("djps dashboard serves the page, and shuts down on SIGTERM with a page's event stream open", async () => {
    const serving = await startServer("dashboard", ["--port", "0"]);
    expect(serving.lines[0]).toMatch(/^djps dashboard: open http:\/\/127\.0\.0\.1:\d+\/ in a browser$/);
    const page = await fetch(`${serving.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const events = await fetch(`${serving.url}/events`, { headers: { authorization: `Bearer ${key}` } });
    expect(events.status).toBe(200);
    // The stream ends cleanly (its last bytes sent) rather than being cut off when the server closes.
    const reading = events.text().catch((error: unknown) => error);
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toBe(0);
    expect(await reading).toMatch(/^retry: 2000\n\n/);
    expect(serving.lines.at(-1)).toBe("djps dashboard: stopped");
  });

  it("djps serve --no-dashboard serves the API only", async () => {
    const serving = await startServe("--port", "0", "--no-dashboard");
    expect((await fetch(`${serving.url}/`)).status).toBe(404);
    expect((await fetch(`${serving.url}/health`)).status).toBe(200);
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toBe(0);
  });

  it.skipIf(!hasCurl)("runs the curl examples (examples/http/curl.sh) against it", async () => {
    const serving = await startServe("--port", "0");
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile("bash", [curlScript], { env: { ...process.env, DJPS_URL: serving.url, DJPS_KEY: key }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(result.stderr, result.stdout).not.toContain("curl:");
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('{"status":"ok"}');
    expect(result.stdout).toContain('"created":true');
    expect(result.stdout).toContain("status 400");
    serving.child.kill("SIGTERM");
    expect(await serving.exited).toBe(0);
  });
});

if (!hasCurl) console.warn("curl is not installed: the curl examples test is skipped");
