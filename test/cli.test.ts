/**
 * The `djps` command line as users run it: the built dist/cli.js in a child
 * process, against the test server.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appliedLines, databaseUrl, SCHEMA_TABLES, uniqueSchema } from "./support/db.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "dist", "cli.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ...args` with `env` (default: this process's, without DATABASE_URL). */
function djps(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.DJPS_DEBUG;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { env: { ...base, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error); // spawn failure or timeout
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** stderr must be exactly one line starting with `djps: `; returns it. */
function oneErrorLine(run: Run): string {
  const lines = run.stderr.replace(/\n$/, "").split("\n");
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^djps: \S/);
  return lines[0]!;
}

/** The newest modification time of anything the build reads. */
function newestSource(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newestSource(join(path, name))));
}

/** Builds dist/ unless dist/cli.js is newer than every source file (CI builds before testing). */
async function ensureBuilt(): Promise<void> {
  let built = 0;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    // not built yet
  }
  const sources = Math.max(newestSource(join(root, "src")), newestSource(join(root, "tsup.config.ts")), newestSource(join(root, "package.json")));
  if (built > sources) return;
  await new Promise<void>((resolve, reject) => {
    execFile("npx", ["tsup"], { cwd: root, timeout: 120_000 }, (error, _stdout, stderr) =>
      error ? reject(new Error(`build failed: ${stderr}`)) : resolve(),
    );
  });
}

const url = databaseUrl();
const admin = new pg.Pool({ connectionString: url, max: 2 });
const schemas: string[] = [];
const roles: string[] = [];
const fresh = (): string => {
  const s = uniqueSchema("cli");
  schemas.push(s);
  return s;
};

beforeAll(ensureBuilt, 180_000);
afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  for (const r of roles) await admin.query(`DROP ROLE IF EXISTS "${r}"`);
  await admin.end();
});

describe("djps migrate", () => {
  it("applies the schema, then says it is up to date", async () => {
    const schema = fresh();
    const first = await djps(["migrate", "--database-url", url, "--schema", schema]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(appliedLines(schema));
    const { rows } = await admin.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1",
      [schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual(SCHEMA_TABLES);

    // DATABASE_URL is the fallback when --database-url is not given.
    const second = await djps(["migrate", "--schema", schema], { DATABASE_URL: url });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(`schema ${schema} is up to date\n`);
    expect(second.stderr).toBe("");
  });

  it("prefers --database-url over DATABASE_URL", async () => {
    const schema = fresh();
    const run = await djps(["migrate", "--database-url", url, "--schema", schema], {
      DATABASE_URL: "postgres://u:p@127.0.0.1:1/db",
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`applied 1_init.sql to schema ${schema}`);
  });

  it("refuses a hostile schema name in one line, touching nothing", async () => {
    const hostile = 'x"; DROP TABLE t; --';
    const run = await djps(["migrate", "--database-url", url, "--schema", hostile]);
    expect(run.code).toBe(1);
    expect(oneErrorLine(run)).toMatch(/^djps: Expected `--schema` to be a plain lower-case identifier/);
    expect(run.stdout).toBe("");
    const { rows } = await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [hostile]);
    expect(rows).toHaveLength(0);
  });

  it("explains an unreachable database in one line", async () => {
    const run = await djps(["migrate", "--database-url", "postgres://u:p@127.0.0.1:1/db"]);
    expect(run.code).toBe(1);
    expect(oneErrorLine(run)).toMatch(/^djps: Cannot reach the database/);
  });

  it("adds the stack trace only with DJPS_DEBUG=1", async () => {
    const run = await djps(["migrate", "--database-url", "postgres://u:p@127.0.0.1:1/db"], { DJPS_DEBUG: "1" });
    expect(run.code).toBe(1);
    const [first, ...rest] = run.stderr.trimEnd().split("\n");
    expect(first).toMatch(/^djps: Cannot reach the database/);
    expect(rest.join("\n")).toMatch(/^MigrationError: Cannot reach the database[^]*\n\s+at /);
  });

  it("explains a wrong password in one line", async () => {
    const wrong = new URL(url);
    wrong.password = "definitely-wrong";
    const run = await djps(["migrate", "--database-url", wrong.toString(), "--schema", fresh()]);
    expect(run.code).toBe(1);
    expect(oneErrorLine(run)).toMatch(/^djps: The database refused the credentials: password authentication failed/);
  });

  it("explains missing privileges in one line", async () => {
    // A fresh role: PUBLIC has no CREATE on a database by default, so it cannot create the schema.
    const role = `djps_cli_${randomBytes(4).toString("hex")}`;
    const password = randomBytes(8).toString("hex");
    roles.push(role);
    await admin.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
    const limited = new URL(url);
    limited.username = role;
    limited.password = password;
    const run = await djps(["migrate", "--database-url", limited.toString(), "--schema", fresh()]);
    expect(run.code).toBe(1);
    expect(oneErrorLine(run)).toMatch(/^djps: .*Missing privileges: permission denied/);
  });

  it("needs a database URL", async () => {
    const run = await djps(["migrate"]);
    expect(run.code).toBe(1);
    expect(oneErrorLine(run)).toBe(
      "djps: No database to migrate: pass --database-url URL or set the DATABASE_URL environment variable",
    );
  });

  it("refuses unknown flags and stray arguments with a hint, exit 2", async () => {
    for (const args of [["migrate", "--frob"], ["migrate", "now"], ["migrate", "--schema"]]) {
      const run = await djps(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^djps: migrate: .+\nRun 'djps migrate --help' for usage\.\n$/);
    }
  });

  it("prints its help", async () => {
    const run = await djps(["migrate", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: djps migrate [--database-url URL] [--schema NAME]");
    expect(run.stdout).toContain("DATABASE_URL");
    expect((await djps(["help", "migrate"])).stdout).toBe(run.stdout);
  });
});

describe("djps", () => {
  it("lists its commands with --help", async () => {
    for (const flag of ["--help", "-h", "help"]) {
      const run = await djps([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: djps <command>/);
      expect(run.stdout).toMatch(/^ {2}migrate +\S/m);
    }
  });

  it("prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    for (const flag of ["--version", "-v"]) {
      const run = await djps([flag]);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`${version}\n`);
    }
  });

  it("refuses an unknown command or option with a hint, exit 2", async () => {
    for (const args of [["frobnicate"], ["--frob"], []]) {
      const run = await djps(args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^djps: .+\nRun 'djps --help' for usage\.\n$/);
      expect(run.stdout).toBe("");
    }
  });
});
