import { PrismaPg } from "@prisma/adapter-pg";
import knexFactory from "knex";
import { drizzle } from "drizzle-orm/node-postgres";
import { CamelCasePlugin, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, ValidationError, type Executor } from "../src/index.js";
import { drizzleClient, knexClient, kyselyClient, prismaClient } from "../src/adapters/index.js";
import { SIGNUPS_TABLE } from "../examples/transactions/app.js";
import { signUp as pgSignUp } from "../examples/transactions/pg.js";
import { signUp as kyselySignUp, type AppDatabase } from "../examples/transactions/kysely.js";
import { signUp as drizzleSignUp } from "../examples/transactions/drizzle.js";
import { signUp as knexSignUp } from "../examples/transactions/knex.js";
import { signUp as prismaSignUp } from "../examples/transactions/prisma.js";
import { PrismaClient } from "../examples/transactions/prisma/generated/client.js";
import { useTestBed } from "./support/bed.js";

// Each example of examples/transactions/ against the real database: the
// application's row and the job commit together or not at all, through each
// library's own transaction and djps/adapters.

const bed = useTestBed("ex_tx");

/** One library, opened on the bed's schema: the example's sign-up, and a bare transaction handing out djps's client. */
interface Library {
  signUp(email: string): Promise<string>;
  transaction<T>(body: (client: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const LIBRARIES: Record<string, (url: string, schema: string) => Library> = {
  "node-postgres": (url, schema) => {
    const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}` });
    return {
      signUp: (email) => pgSignUp(pool, bed.queue, email),
      async transaction(body) {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await body(client);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  },
  Kysely: (url, schema) => {
    const db = new Kysely<AppDatabase>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, options: `-c search_path=${schema}` }) }),
    });
    return {
      signUp: (email) => kyselySignUp(db, bed.queue, email),
      transaction: (body) => db.transaction().execute((trx) => body(kyselyClient(trx))),
      close: () => db.destroy(),
    };
  },
  Drizzle: (url, schema) => {
    const pool = new pg.Pool({ connectionString: url, options: `-c search_path=${schema}` });
    const db = drizzle(pool);
    return {
      signUp: (email) => drizzleSignUp(db, bed.queue, email),
      transaction: (body) => db.transaction((tx) => body(drizzleClient(tx))),
      close: () => pool.end(),
    };
  },
  Knex: (url, schema) => {
    const knex = knexFactory({ client: "pg", connection: { connectionString: url }, searchPath: [schema] });
    return {
      signUp: (email) => knexSignUp(knex, bed.queue, email),
      transaction: (body) => knex.transaction((trx) => body(knexClient(trx))),
      close: () => knex.destroy(),
    };
  },
  Prisma: (url, schema) => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url }, { schema }) });
    return {
      signUp: (email) => prismaSignUp(prisma, bed.queue, email),
      transaction: (body) => prisma.$transaction((tx) => body(prismaClient(tx))),
      close: () => prisma.$disconnect(),
    };
  },
};

beforeAll(async () => {
  await bed.db.pool.query(`SET search_path = "${bed.db.schema}"`);
});

const signupsOf = async (email: string): Promise<number> =>
  Number((await bed.db.pool.query(`SELECT count(*) AS n FROM "${bed.db.schema}".signups WHERE email = $1`, [email])).rows[0].n);
const jobsOf = async (email: string): Promise<number> =>
  Number((await bed.db.pool.query(`SELECT count(*) AS n FROM "${bed.db.schema}".jobs WHERE payload->>'email' = $1`, [email])).rows[0].n);

describe.each(Object.keys(LIBRARIES))("enqueue inside a transaction of %s", (name) => {
  let library: Library;
  const tag = name.toLowerCase().replace(/[^a-z]/g, "");

  beforeAll(async () => {
    await bed.db.pool.query(`CREATE TABLE IF NOT EXISTS "${bed.db.schema}".${SIGNUPS_TABLE.replace("CREATE TABLE IF NOT EXISTS ", "")}`);
    library = LIBRARIES[name]!(bed.db.url, bed.db.schema);
  });
  afterAll(async () => {
    await library?.close();
  });

  it("commits the application's row and the job together", async () => {
    const email = `ada.${tag}@example.com`;
    const id = await library.signUp(email);
    expect(await signupsOf(email)).toBe(1);
    const job = await bed.queue.getJob(id);
    expect(job).toMatchObject({ type: "send_welcome", payload: { email }, status: "queued" });
  });

  it("rolls back both when a later step of the transaction fails", async () => {
    const email = `eve.${tag}@blocked.example`;
    await expect(library.signUp(email)).rejects.toThrow("sign-ups from blocked.example are closed");
    expect(await signupsOf(email)).toBe(0);
    expect(await jobsOf(email)).toBe(0);
  });

  it("runs enqueueMany and getJob on the transaction's connection: others see the jobs only after the commit", async () => {
    const email = `many.${tag}@example.com`;
    const ids = await library.transaction(async (client) => {
      const results = await bed.queue.enqueueMany(
        [
          { type: "send_welcome", payload: { email }, options: { idempotencyKey: `k-${tag}`, runAt: new Date(Date.now() + 60_000) } },
          { type: "send_welcome", payload: { email }, options: { idempotencyKey: `k-${tag}` } },
          { type: "send_digest", payload: { email, n: 1.5, tags: ["a", null] }, options: { priority: 3, delayMs: 10 } },
        ],
        { client },
      );
      expect(results.map((r) => r.created)).toEqual([true, false, true]);
      expect(results[1]!.job.id).toBe(results[0]!.job.id);
      const inside = await bed.queue.getJob(results[2]!.job.id, { client });
      expect(inside).toMatchObject({ type: "send_digest", payload: { email, n: 1.5, tags: ["a", null] }, priority: 3, status: "queued" });
      expect(inside!.runAt).toBeInstanceOf(Date);
      expect(await bed.queue.getJob(results[0]!.job.id)).toBeNull(); // not committed yet
      return results.map((r) => r.job.id);
    });
    expect((await bed.queue.getJob(ids[0]!))?.runAt.getTime()).toBeGreaterThan(Date.now() + 30_000);
    expect(await jobsOf(email)).toBe(2);
  });
});

describe("kyselyClient", () => {
  it("reads djps's rows as they are under a plugin that renames columns (CamelCasePlugin)", async () => {
    const db = new Kysely<AppDatabase>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: bed.db.url, max: 1 }) }),
      plugins: [new CamelCasePlugin()],
    });
    try {
      const { job, created } = await db.transaction().execute((trx) =>
        bed.queue.enqueue("camel_case", { a: 1 }, { client: kyselyClient(trx), idempotencyKey: "camel" }),
      );
      expect(created).toBe(true);
      expect(job.createdAt).toBeInstanceOf(Date);
      expect(job.runAt).toBeInstanceOf(Date);
      const again = await db.transaction().execute((trx) => bed.queue.enqueue("camel_case", { a: 1 }, { client: kyselyClient(trx), idempotencyKey: "camel" }));
      expect(again).toMatchObject({ created: false, job: { id: job.id, idempotencyKey: "camel", maxAttempts: 3 } });
    } finally {
      await db.destroy();
    }
  });
});

describe("djps/adapters refuse what they cannot use", () => {
  it("names the field when given something that is not a transaction", () => {
    for (const adapt of [kyselyClient, drizzleClient, knexClient, prismaClient] as Array<(v: any) => Executor>) {
      const error = (() => {
        try {
          adapt({ query: () => {} });
        } catch (e) {
          return e;
        }
      })();
      expect(error, adapt.name).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe("transaction");
      expect((error as Error).message).toMatch(/^Expected `transaction` to be a (Kysely|Drizzle|Knex|Prisma) transaction/);
    }
  });

  it("says which Drizzle driver it needs", () => {
    expect(() => drizzleClient({ _: { session: { client: { unsafe: () => {} } } } })).toThrow(ConfigError);
    expect(() => drizzleClient({ _: { session: { client: { unsafe: () => {} } } } })).toThrow(/node-postgres/);
  });

  it("refuses Knex on another database, and a Knex transaction that has finished", async () => {
    const other = { isCompleted: () => false, client: { dialect: "mysql", acquireConnection: async () => ({}) } };
    expect(() => knexClient(other)).toThrow(/PostgreSQL.*mysql/);
    const knex = knexFactory({ client: "pg", connection: { connectionString: bed.db.url } });
    try {
      let kept: Executor | undefined;
      await knex.transaction(async (trx) => {
        kept = knexClient(trx);
        expect((await kept.query("SELECT $1::int + 1 AS n", [41])).rows).toEqual([{ n: 42 }]);
      });
      await expect(kept!.query("SELECT 1", [])).rejects.toThrow(ConfigError);
    } finally {
      await knex.destroy();
    }
  });
});
