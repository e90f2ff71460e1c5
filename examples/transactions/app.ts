/**
 * The application the transaction examples share: a `signups` table of its
 * own, and a rule that a later step of the sign-up can break. Each example
 * writes the row and enqueues the welcome email in one transaction, so a
 * failure anywhere in it leaves neither.
 */

/** The application's own table. */
export const SIGNUPS_TABLE = "CREATE TABLE IF NOT EXISTS signups (id serial PRIMARY KEY, email text NOT NULL)";

/** A step after the enqueue, in the same transaction, that fails for some addresses. */
export function checkDomain(email: string): void {
  if (email.endsWith("@blocked.example")) throw new Error(`sign-ups from ${email.split("@")[1]} are closed`);
}
