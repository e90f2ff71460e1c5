import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: { index: "src/index.ts", http: "src/http/index.ts", testing: "src/testing/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    shims: true,
    sourcemap: true,
    clean: true,
    target: "node20",
  },
  {
    entry: { cli: "src/cli.ts" },
    format: ["esm"],
    shims: true,
    sourcemap: true,
    target: "node20",
  },
]);
