import pg from "pg";

/**
 * A real pool that watches the statements whose text contains `marker` (say
 * `.job_claim(`): how many were sent, came back, are out now and were out at
 * most at once, and how many came back with no row that has a non-null `id`.
 * Everything else passes through untouched.
 */
export class StatementCountingPool extends pg.Pool {
  sent = 0;
  done = 0;
  inFlight = 0;
  most = 0;
  empty = 0;

  constructor(
    private readonly marker: string,
    config: pg.PoolConfig,
  ) {
    super(config);
  }

  override query(...args: unknown[]): never {
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === "string" ? first : first?.text;
    const run = () => (super.query as (...a: unknown[]) => Promise<{ rows: Array<{ id?: unknown }> }>).apply(this, args);
    if (!text?.includes(this.marker)) return run() as never;
    this.sent++;
    this.inFlight++;
    this.most = Math.max(this.most, this.inFlight);
    return run()
      .then((result) => {
        if (!result.rows.some((r) => r.id !== null && r.id !== undefined)) this.empty++;
        return result;
      })
      .finally(() => {
        this.inFlight--;
        this.done++;
      }) as never;
  }
}
