/** Below every UUID: where a walk over the primary key starts. */
export const FIRST_ID = "00000000-0000-0000-0000-000000000000";

/** What one batch statement reports: rows it handled, and the greatest id among them. */
export interface BatchRow {
  count: number;
  last: string | null;
}

/**
 * Runs a batch statement again and again, each call continuing after the
 * greatest id the previous one handled, until a batch comes back short (no
 * more rows) or `stopped()` says so. Each call is its own short transaction.
 * Returns the rows of every batch.
 */
export async function walkBatches<R extends BatchRow>(
  step: (after: string) => Promise<R>,
  limit: number,
  stopped: () => boolean = () => false,
): Promise<R[]> {
  const rows: R[] = [];
  let after = FIRST_ID;
  for (;;) {
    const row = await step(after);
    rows.push(row);
    if (row.count < limit || row.last === null || stopped()) return rows;
    after = row.last;
  }
}
