import pg from "pg";
import { connectionStringFrom, describeDatabaseError } from "./db.js";
import { coerceError, DjpsError } from "./errors.js";
import { DEFAULT_SCHEMA, roleNameSchema, schemaNameSchema } from "./options.js";
import { schemaGrant } from "./sql/schemaGrant.js";
import { parse } from "./validate.js";
import { z } from "zod";

/** Options for `grant()`. */
export interface GrantOptions {
  /** A connection string of a role that owns the schema (the one that ran `migrate`). @default process.env.DATABASE_URL */
  connectionString?: string;
  /** The schema djps was migrated into. @default "djps" */
  schema?: string;
  /** The runtime role to give access to. It must exist. */
  role: string;
  /** Return the statements without running them. */
  dryRun?: boolean;
}

const grantOptionsSchema = z.strictObject(
  {
    connectionString: z.string({ error: "a PostgreSQL connection string" }).min(1, { error: "a PostgreSQL connection string" }).optional(),
    schema: schemaNameSchema.optional(),
    role: roleNameSchema,
    dryRun: z.boolean({ error: "a boolean" }).optional(),
  },
  { error: "an options object with `role`" },
);

/**
 * Gives a runtime role exactly what Queue and Worker need in the djps schema
 * (see `schemaGrant`), so the application need not run as the schema's owner.
 * Returns the statements it ran (or, with `dryRun`, would run), all in one
 * transaction.
 *
 * @throws {@link ValidationError} for invalid options (naming the field).
 * @throws {@link ConfigError} when no connection string is given and `DATABASE_URL` is unset.
 * @throws {@link DjpsError} with code `GRANT` when a statement fails (e.g. the role does not exist).
 *
 * @example
 * await grant({ role: "app_runtime" }); // as the owner, after migrate()
 */
export async function grant(options: GrantOptions): Promise<string[]> {
  const opts = parse(grantOptionsSchema, options, "options");
  const statements = schemaGrant(opts.schema ?? DEFAULT_SCHEMA, opts.role);
  if (opts.dryRun) return statements;
  const connectionString = connectionStringFrom(opts.connectionString, "No database: pass `connectionString` or set the DATABASE_URL environment variable");
  const client = new pg.Client({ connectionString, application_name: "djps grant" });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("BEGIN");
    for (const text of statements) await client.query(text);
    await client.query("COMMIT");
    return statements;
  } catch (error) {
    throw new DjpsError("GRANT", `Granting access to \`${opts.role}\` failed: ${describeDatabaseError(coerceError(error))}`, { cause: error });
  } finally {
    await client.end().catch(() => {});
  }
}
