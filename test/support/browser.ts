import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

/** Debian's Chromium (`apt-get install -y chromium`), or the one `DJPS_CHROMIUM` names. */
export const CHROMIUM = process.env.DJPS_CHROMIUM ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or null when they can. */
export const browserMissing: string | null = existsSync(CHROMIUM)
  ? null
  : `No Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set DJPS_CHROMIUM) to run the dashboard's browser tests`;

/**
 * The flags a closed network needs: without the networking ones Chromium
 * stalls trying to reach its own services.
 */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with an empty profile of its own, removed on close. */
export async function launchBrowser(): Promise<TestBrowser> {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "djps-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 860 },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
