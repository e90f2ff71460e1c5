/**
 * The package as users get it: `npm pack`, install the tarball in a scratch
 * project, then `require`, `import`, type-check and `npx djps migrate` from
 * there. Slow (an npm install), so it runs only with DJPS_TEST_PACK=1, as CI
 * does.
 *
 * It packs a copy of what a clone would hold (the files git tracks or would
 * track, nothing it ignores, so no dist/), and never builds first: `npm pack`
 * alone must build, as it does for a release from a fresh clone. The copy also
 * keeps the repository's own dist/ from being rebuilt under other test files.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseUrl, SCHEMA_TABLES, uniqueSchema } from "./support/db.js";
import { freePort } from "./support/postgres.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
/** The Bun the packed package is tried on (see docs/operations.md, Runtimes). */
const BUN_VERSION = "1.4.5";

/** Copies the files a clone would have: tracked or untracked, but not ignored (dist/, node_modules/...). */
async function copyClone(to: string): Promise<void> {
  const listed = await ok("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root);
  for (const path of listed.stdout.split("\0")) {
    // Deleted in the working tree but still in the index: a clone of the next commit would not have it.
    if (path === "" || !existsSync(join(root, path))) continue;
    await mkdir(dirname(join(to, path)), { recursive: true });
    await copyFile(join(root, path), join(to, path));
  }
}

/**
 * What a TypeScript user writes, type-checked with `strict` and
 * `skipLibCheck: false` so djps's own declarations (and the `pg` types they
 * import) are checked too. The expected error proves the declarations were
 * read: were djps typed as `any`, the directive itself would be the error.
 */
const USER_CODE = `import { Queue, ValidationError, type EnqueueOptions, type Job } from "djps";
import { drain, expectEnqueued, type DrainResult } from "djps/testing";
import { knexClient, type KnexTransactionLike } from "djps/adapters";

const queue = new Queue({ connectionString: "postgres://localhost/app" });
export const pool = queue.pool;
export const options: EnqueueOptions = { priority: 1, queue: "emails" };
export const isValidation = (e: unknown): e is ValidationError => e instanceof ValidationError;
export async function find(id: string): Promise<Job | null> {
  return queue.getJob(id);
}
// @ts-expect-error poolSize is a number
new Queue({ poolSize: "ten" });
export async function drained(): Promise<DrainResult> {
  await expectEnqueued(queue, { type: "send_email", payload: { to: "a@b.c" } });
  return drain(queue, { send_email: async (payload) => payload });
}
export async function inTransaction(trx: KnexTransactionLike): Promise<void> {
  await queue.enqueue("send_email", { to: "a@b.c" }, { client: knexClient(trx) });
}
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeout = 120_000, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(new Error(`${command} ${args.join(" ")}: ${error.message}\n${stderr}`));
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** Runs and expects exit 0, showing the output otherwise. */
async function ok(command: string, args: string[], cwd: string, timeout?: number, env?: NodeJS.ProcessEnv): Promise<Run> {
  const result = await run(command, args, cwd, timeout, env);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

describe.skipIf(!process.env.DJPS_TEST_PACK)("the packed package", () => {
  let work: string;
  let tarball: string;
  let files: string[];
  let project: string;
  const schema = uniqueSchema("pack");
  const admin = new pg.Pool({ connectionString: databaseUrl(), max: 1 });

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "djps-pack-"));
    const source = join(work, "source");
    await copyClone(source);
    if (existsSync(join(source, "dist"))) throw new Error("the copy has a dist/: it would not show that npm pack builds");
    await symlink(join(root, "node_modules"), join(source, "node_modules"), "dir");
    // Not --json: the prepack build's output goes to stdout as well. The tarball is the one .tgz.
    await ok("npm", ["pack", "--pack-destination", work], source);
    const [name] = (await readdir(work)).filter((f) => f.endsWith(".tgz"));
    tarball = join(work, name!);
    const listed = await ok("tar", ["-tzf", tarball], work);
    files = listed.stdout.split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));

    project = join(work, "app");
    await mkdir(project);
    await ok("npm", ["init", "-y"], project);
    await ok("npm", ["install", "--no-audit", "--no-fund", tarball], project, 240_000);
  }, 300_000);

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await admin.end();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("ships the migrations, both builds and both type declarations", () => {
    for (const path of [
      "migrations/1_init.sql",
      "dist/index.js",
      "dist/index.cjs",
      "dist/index.d.ts",
      "dist/index.d.cts",
      "dist/http.js",
      "dist/http.cjs",
      "dist/http.d.ts",
      "dist/http.d.cts",
      "dist/testing.js",
      "dist/testing.cjs",
      "dist/testing.d.ts",
      "dist/testing.d.cts",
      "dist/adapters.js",
      "dist/adapters.cjs",
      "dist/adapters.d.ts",
      "dist/adapters.d.cts",
      "dist/cli.js",
      "dist/dashboard/app.js",
      "dist/dashboard/app.css",
      "package.json",
      "README.md",
      "LICENSE",
    ]) {
      expect(files, path).toContain(path);
    }
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);
  });

  it("is checked with the same Node as the suite (the node, npm and npx on PATH)", async () => {
    // CI runs this file on several Node versions by putting one first on PATH:
    // the commands below must run that one, not the machine's.
    expect((await ok("node", ["-p", "process.version"], project)).stdout.trim()).toBe(process.version);
    const npm = JSON.parse((await ok("npm", ["version", "--json"], project)).stdout) as { node: string };
    expect(`v${npm.node}`).toBe(process.version);
  });

  it("works with require (CommonJS)", async () => {
    const { stdout } = await ok(
      "node",
      ["-e", "const d = require('djps'); console.log(typeof d.Queue, typeof d.migrate, typeof d.Worker, new d.ValidationError('f', 'm') instanceof d.DjpsError)"],
      project,
    );
    expect(stdout.trim()).toBe("function function function true");
  });

  it("works with import (ESM)", async () => {
    await writeFile(
      join(project, "check.mjs"),
      'import { Queue, migrate, Worker } from "djps";\nconsole.log(typeof Queue, typeof migrate, typeof Worker);\n',
    );
    const { stdout } = await ok("node", ["check.mjs"], project);
    expect(stdout.trim()).toBe("function function function");
  });

  it("has the HTTP API at djps/http, which the main entry does not load", async () => {
    const cjs = await ok(
      "node",
      [
        "-e",
        "const d = require('djps'); const loaded = () => Object.keys(require.cache).some((p) => p.endsWith('http.cjs'));" +
          "const before = loaded(); const h = require('djps/http'); console.log(before, loaded(), typeof h.createHandler, typeof h.createKey)",
      ],
      project,
    );
    expect(cjs.stdout.trim()).toBe("false true function function");
    await writeFile(join(project, "check-http.mjs"), 'import { createHandler, serve } from "djps/http";\nconsole.log(typeof createHandler, typeof serve);\n');
    expect((await ok("node", ["check-http.mjs"], project)).stdout.trim()).toBe("function function");
    // The ESM main entry and the chunks it imports name no HTTP module.
    const dist = join(project, "node_modules", "djps", "dist");
    const index = await readFile(join(dist, "index.js"), "utf8");
    const chunks = [...index.matchAll(/from "\.\/([^"]+)"/g)].map((m) => m[1]!);
    for (const file of ["index.js", ...chunks]) expect(await readFile(join(dist, file), "utf8"), file).not.toMatch(/createHandler|http\.js/);
  });

  it("type-checks strictly with skipLibCheck off, as ESM and as CommonJS (nodenext)", async () => {
    await writeFile(join(project, "check-esm.mts"), USER_CODE);
    await writeFile(join(project, "check-cjs.cts"), USER_CODE);
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, skipLibCheck: false, module: "nodenext", moduleResolution: "nodenext", target: "es2022", noEmit: true },
        files: ["check-esm.mts", "check-cjs.cts"],
      }),
    );
    const { stdout } = await ok("node", [tsc, "-p", "tsconfig.json", "--listFiles"], project, 120_000);
    // The import and the require condition each reached their own declarations.
    expect(stdout).toContain("node_modules/djps/dist/index.d.ts");
    expect(stdout).toContain("node_modules/djps/dist/index.d.cts");
    expect(stdout).toContain("node_modules/djps/dist/testing.d.ts");
    expect(stdout).toContain("node_modules/djps/dist/testing.d.cts");
    expect(stdout).toContain("node_modules/djps/dist/adapters.d.ts");
    expect(stdout).toContain("node_modules/djps/dist/adapters.d.cts");
  });

  it("migrates with npx djps migrate", async () => {
    const first = await ok("npx", ["--no-install", "djps", "migrate", "--database-url", databaseUrl(), "--schema", schema], project, 60_000);
    expect(first.stdout).toContain(`applied 1_init.sql to schema ${schema}`);
    const { rows } = await admin.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
      [schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual(SCHEMA_TABLES);
    const version = await ok("npx", ["--no-install", "djps", "--version"], project, 60_000);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await readdir(join(project, "node_modules", "djps", "migrations"))).sort()).toContain("1_init.sql");
  });

  it("has the testing helpers at djps/testing, which neither load nor are loaded by the main entry, and drain a Queue of djps", async () => {
    const dist = join(project, "node_modules", "djps", "dist");
    const index = await readFile(join(dist, "index.js"), "utf8");
    expect(index).not.toMatch(/testing\.js/);
    const testing = await readFile(join(dist, "testing.js"), "utf8");
    expect(testing).not.toMatch(/from "djps"|\.\/index\.js/);
    // The same run in both module systems: a Queue from djps, drained by djps/testing, and
    // an error thrown by djps/testing is an instance of djps's class (the entries share chunks).
    const script = (load: string) =>
      `${load}\n(async () => {\n` +
      `  const queue = new Queue({ connectionString: process.env.DATABASE_URL, schema: process.env.DJPS_SCHEMA });\n` +
      `  await queue.enqueue("pack_check", { n: 2 });\n` +
      `  await expectEnqueued(queue, { type: "pack_check", payload: { n: 2 } });\n` +
      `  const { runs } = await drain(queue, { pack_check: (p) => p.n * 21 });\n` +
      `  const missing = await runJob(queue, "00000000-0000-7000-8000-000000000000", () => 1).catch((e) => e);\n` +
      `  console.log(runs.map((r) => r.outcome + ":" + JSON.stringify(r.result)).join(","), missing instanceof JobNotFoundError);\n` +
      `  await queue.close();\n})();\n`;
    await writeFile(join(project, "check-testing.mjs"), script('import { Queue, JobNotFoundError } from "djps";\nimport { drain, expectEnqueued, runJob } from "djps/testing";'));
    await writeFile(
      join(project, "check-testing.cjs"),
      script('const { Queue, JobNotFoundError } = require("djps");\nconst { drain, expectEnqueued, runJob } = require("djps/testing");\n' +
        'if (Object.keys(require.cache).some((p) => p.endsWith("/djps/dist/index.cjs")) !== true) throw new Error("djps not loaded");'),
    );
    const env = { DATABASE_URL: databaseUrl(), DJPS_SCHEMA: schema };
    expect((await ok("node", ["check-testing.mjs"], project, 60_000, env)).stdout.trim()).toBe("succeeded:42 true");
    expect((await ok("node", ["check-testing.cjs"], project, 60_000, env)).stdout.trim()).toBe("succeeded:42 true");
    const alone = await ok("node", ["-e", "require('djps/testing'); console.log(Object.keys(require.cache).some((p) => p.endsWith('/djps/dist/index.cjs')))"], project);
    expect(alone.stdout.trim()).toBe("false");
  });

  it("has the transaction adapters at djps/adapters, which the main entry does not load", async () => {
    const cjs = await ok(
      "node",
      [
        "-e",
        "const d = require('djps'); const loaded = () => Object.keys(require.cache).some((p) => p.endsWith('adapters.cjs'));" +
          "const before = loaded(); const a = require('djps/adapters'); console.log(before, loaded(), typeof a.kyselyClient, typeof a.drizzleClient, typeof a.knexClient, typeof a.prismaClient);" +
          "try { a.knexClient({}) } catch (e) { console.log(e instanceof d.ValidationError, e.field) }",
      ],
      project,
    );
    expect(cjs.stdout.trim()).toBe("false true function function function function\ntrue transaction");
    await writeFile(join(project, "check-adapters.mjs"), 'import { kyselyClient, prismaClient } from "djps/adapters";\nconsole.log(typeof kyselyClient, typeof prismaClient);\n');
    expect((await ok("node", ["check-adapters.mjs"], project)).stdout.trim()).toBe("function function");
    const index = await readFile(join(project, "node_modules", "djps", "dist", "index.js"), "utf8");
    expect(index).not.toMatch(/adapters\.js/);
  });

  it("serves the HTTP API with djps serve, with a key from npx djps keys create", async () => {
    const created = await ok("npx", ["--no-install", "djps", "keys", "create", "--name", "pack", "--json", "--database-url", databaseUrl(), "--schema", schema], project, 60_000);
    const { key } = JSON.parse(created.stdout) as { key: string };
    const port = await freePort();
    // The installed bin itself rather than npx, so that SIGTERM reaches the server and not a wrapper.
    const child = spawn(join(project, "node_modules", ".bin", "djps"), ["serve", "--port", String(port), "--database-url", databaseUrl(), "--schema", schema], {
      cwd: project,
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      let out = "";
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d) => {
          out += d;
          if (out.includes("listening on")) resolve();
        });
        child.once("exit", (code) => reject(new Error(`djps serve exited ${code}: ${out}`)));
      });
      const url = `http://127.0.0.1:${port}`;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const enqueued = await fetch(`${url}/jobs`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ type: "from_http", payload: { ok: true } }),
      });
      expect(enqueued.status).toBe(201);
      expect(((await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string }).openapi).toBe("3.1.0");
      // The dashboard, from the files shipped in dist/dashboard/.
      const page = await fetch(`${url}/`);
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      const script = /src="([^"]+)"/.exec(await page.text())![1]!;
      const bundle = await fetch(new URL(script, url));
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    } finally {
      const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    }
  });

  // Bun, fetched from npm by npx at a pinned version: slow the first time and
  // needs the registry, so only when DJPS_TEST_BUN=1 (CI sets it for one run).
  it.skipIf(!process.env.DJPS_TEST_BUN)("runs under Bun: the CLI migrates, LISTEN wakes a Worker that runs a job, djps/testing drains, require and import", async () => {
    const bun = (args: string[], env?: NodeJS.ProcessEnv) => ok("npx", ["-y", "--package", `bun@${BUN_VERSION}`, "--", "bun", ...args], project, 120_000, env);
    const bunSchema = `${schema}_bun`;
    const cli = join("node_modules", "djps", "dist", "cli.js");
    try {
      const migrated = await bun([cli, "migrate", "--database-url", databaseUrl(), "--schema", bunSchema]);
      expect(migrated.stdout).toContain(`applied 1_init.sql to schema ${bunSchema}`);
      await writeFile(
        join(project, "check-bun.mjs"),
        'import { Queue, Worker } from "djps";\n' +
          'import { drain } from "djps/testing";\n' +
          "const connection = { connectionString: process.env.DATABASE_URL, schema: process.env.DJPS_SCHEMA };\n" +
          "const queue = new Queue(connection);\n" +
          "let ran;\n" +
          "const started = new Promise((resolve) => (ran = resolve));\n" +
          // Polling once a minute: only the NOTIFY of the enqueue, through the
          // worker's LISTEN connection, can start the job within the deadline.
          "const worker = new Worker({ bun_check: async (p) => (ran(), p.n * 2) }, { ...connection, pollIntervalMs: 60_000 });\n" +
          "await worker.start();\n" +
          'const { job } = await queue.enqueue("bun_check", { n: 21 });\n' +
          'const deadline = setTimeout(() => { console.log("not woken by LISTEN"); process.exit(1); }, 15_000);\n' +
          "await started;\n" +
          "clearTimeout(deadline);\n" +
          "await worker.stop();\n" +
          "const done = await queue.getJob(job.id);\n" +
          'await queue.enqueue("bun_drain", { n: 1 });\n' +
          "const { runs } = await drain(queue, { bun_drain: (p) => p.n + 1 });\n" +
          'console.log(typeof Bun === "undefined" ? "not bun" : "bun", done.status, done.result, runs.map((r) => r.outcome + ":" + r.result).join());\n' +
          "await queue.close();\n",
      );
      const env = { DATABASE_URL: databaseUrl(), DJPS_SCHEMA: bunSchema };
      expect((await bun(["check-bun.mjs"], env)).stdout.trim()).toBe("bun succeeded 42 succeeded:2");
      const required = await bun(["-e", "const d = require('djps'); const t = require('djps/testing'); const h = require('djps/http'); console.log(typeof d.Worker, typeof t.drain, typeof h.createHandler)"]);
      expect(required.stdout.trim()).toBe("function function function");
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${bunSchema}" CASCADE`).catch(() => {});
    }
  });
});
