import { keepsAll, pruneDuty, type RetentionAges } from "./pruner.js";
import { rescueDuty } from "./rescuer.js";
import { schedulerDuty } from "./scheduler.js";
import type { Duty, DutyContext } from "./duty.js";

/** The maintenance settings of a worker, resolved (see the Worker's `rescue`, `retention` and `scheduler` options). */
export interface MaintenanceSettings {
  rescue: { intervalMs: number };
  /** Every age `false` keeps every job. */
  retention: RetentionAges & { intervalMs: number };
  /** false: this worker enqueues no scheduled jobs. */
  scheduler: { intervalMs: number } | false;
}

/**
 * Every maintenance duty a worker runs with these settings. A worker keeps
 * the rescue, prune and schedule duties by name, for its methods that run a
 * pass on demand; the ones turned off are still made, to run on demand, but
 * left out of `running`.
 */
export function maintenanceDuties(ctx: DutyContext, settings: MaintenanceSettings) {
  const ages = settings.retention;
  const rescue = rescueDuty(ctx, settings.rescue.intervalMs);
  const prune = pruneDuty(ctx, ages, settings.retention.intervalMs);
  const schedule = schedulerDuty(ctx, settings.scheduler === false ? 0 : settings.scheduler.intervalMs);
  const running: Duty[] = [rescue];
  if (!keepsAll(ages)) running.push(prune);
  if (settings.scheduler !== false) running.push(schedule);
  return { rescue, prune, schedule, running };
}
