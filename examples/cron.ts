/**
 * A recurring job: a schedule kept in the database, one job per tick however
 * many workers run the scheduler. This one ticks every second (six fields:
 * seconds first), so the example sees two ticks, removes the schedule and
 * ends. For real schedules, see docs/schedules.md: "0 3 * * *" with a
 * `timeZone`, and what happens to ticks missed while no worker ran.
 *
 * test/examples.run.test.ts runs it. In your code, import from "djps"
 * instead of ../src.
 *
 *   DATABASE_URL=postgres://... npx tsx examples/cron.ts
 */
import { migrate, Queue, Worker } from "../src/index.js";

await migrate();
const queue = new Queue();
await queue.schedule("heartbeat", "* * * * * *", "record_heartbeat", { source: "cron example" }, { timeZone: "UTC" });

let ticks = 0;
let enough: () => void;
const twoTicks = new Promise<void>((resolve) => (enough = resolve));

const worker = new Worker({
  record_heartbeat: async (payload, ctx) => {
    ticks += 1;
    // Each tick's job carries its tick in its idempotency key.
    console.log(`tick ${ticks}: ${ctx.job.idempotencyKey} ${JSON.stringify(payload)}`);
    if (ticks === 2) enough();
  },
}, { scheduler: { intervalMs: 200 } }); // the scheduler looks for due ticks every 200 ms (default 1 s)
await worker.start();

await twoTicks;
await queue.unschedule("heartbeat");
await worker.stop();
await queue.close();
console.log("done");
