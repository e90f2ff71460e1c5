import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CLIENT = join(ROOT, "src/http/dashboard/client");
const BUNDLE = join(ROOT, "dist/dashboard/app.js");

function newest(dir: string): number {
  return Math.max(...readdirSync(dir).map((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    return stat.isDirectory() ? newest(path) : stat.mtimeMs;
  }));
}

/**
 * The dashboard is served from its built bundle (dist/dashboard/), as in the
 * package. Builds it, with the project's own tsup config, when it is missing
 * or older than its sources, so that a test run never serves a stale page.
 */
export async function buildDashboardIfStale(): Promise<void> {
  if (existsSync(BUNDLE) && statSync(BUNDLE).mtimeMs >= newest(CLIENT)) return;
  const [{ build }, { dashboardBuild }] = await Promise.all([import("tsup"), import("../../tsup.config.js")]);
  await build({ ...dashboardBuild, silent: true, config: false });
}
