import { defineConfig } from "tsup";

export default defineConfig([
  {
    entry: { index: "src/index.ts", http: "src/http/index.ts", testing: "src/testing/index.ts" },
    format: ["esm", "cjs"],
    dts: true,
    // CommonJS too: the entries share chunks instead of each carrying its own
    // copy of the error classes, so `instanceof` holds across djps, djps/http
    // and djps/testing under require as under import.
    splitting: true,
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
