import { defineConfig, type Options } from "tsup";

/**
 * The dashboard's page script and style sheet: one minified browser bundle
 * each, written to dist/dashboard/, where `djps/http` serves them from.
 * Exported for the tests, which build it when it is missing or stale.
 */
export const dashboardBuild: Options = {
  entry: { app: "src/http/dashboard/client/main.ts" },
  outDir: "dist/dashboard",
  format: ["iife"],
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: false,
  clean: false,
  dts: false,
  outExtension: () => ({ js: ".js" }),
};

export default defineConfig([
  {
    entry: { index: "src/index.ts", http: "src/http/index.ts", testing: "src/testing/index.ts", adapters: "src/adapters/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    // CommonJS too: the entries share chunks instead of each carrying its own
    // copy of the error classes, so `instanceof` holds across djps, djps/http
    // djps/testing and djps/adapters under require as under import.
    splitting: true,
    shims: true,
    sourcemap: true,
    // The dashboard's bundle is written beside these by the config below, at the same time.
    clean: ["!dashboard/**"],
    target: "node20",
  },
  {
    entry: { cli: "src/cli.ts" },
    format: ["esm"],
    shims: true,
    sourcemap: true,
    target: "node20",
  },
  dashboardBuild,
]);
