import { bullmq } from "./systems/bullmq.js";
import { djps } from "./systems/djps.js";
import { graphileWorker } from "./systems/graphileWorker.js";
import { pgBoss } from "./systems/pgBoss.js";
import type { System } from "./system.js";

/** Every system under test, by name, djps first. */
export const SYSTEMS: System[] = [djps, graphileWorker, pgBoss, bullmq];
