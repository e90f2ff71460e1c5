import type { Sizes } from "./options.js";
import type { Adapter, System } from "./system.js";

/** What a scenario gets: a system in one configuration, installed in a database of its own. */
export interface Context {
  system: System;
  config: string;
  sizes: Sizes;
  /** The fresh database's URL. */
  url: string;
  adapter: Adapter;
}

/** One figure; `detail` carries what else is worth keeping (counts, partial runs). */
export interface Result {
  metric: string;
  value: number;
  unit: string;
  detail?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  /** Run once per system and configuration (first repetition, first server), not in every repetition: a long scenario. */
  once?: boolean;
  /** One line for the docs and the table. */
  describe(sizes: Sizes): string;
  run(ctx: Context): Promise<Result[]>;
}
