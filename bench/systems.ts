import { bullmq } from "./systems/bullmq.js";
import { djps } from "./systems/djps.js";
import { graphileWorker } from "./systems/graphileWorker.js";
import { pgBoss } from "./systems/pgBoss.js";
import type { System } from "./system.js";

/** Every system under test, by name, djps first. */
export const SYSTEMS: System[] = [djps, graphileWorker, pgBoss, bullmq];

export function systemNamed(name: string): System {
  const system = SYSTEMS.find((s) => s.name === name);
  if (!system) throw new Error(`No system named ${name}: ${SYSTEMS.map((s) => s.name).join(", ")}`);
  return system;
}
