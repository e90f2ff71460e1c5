import type { System } from "./system.js";

/**
 * Loads one system's adapter and nothing else: a worker process must carry
 * only its own queue library (the memory scenario measures it).
 */
const LOADERS: Record<string, () => Promise<System>> = {
  djps: async () => (await import("./systems/djps.js")).djps,
  "graphile-worker": async () => (await import("./systems/graphileWorker.js")).graphileWorker,
  "pg-boss": async () => (await import("./systems/pgBoss.js")).pgBoss,
  "bullmq-pg": async () => (await import("./systems/bullmq.js")).bullmq,
};

export async function loadSystem(name: string): Promise<System> {
  const load = LOADERS[name];
  if (!load) throw new Error(`No system named ${name}: ${Object.keys(LOADERS).join(", ")}`);
  return load();
}
