import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The layering docs/architecture.md describes, checked on the source: a
// module imports only from its own layer or the ones below it.
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Each file's imports of other source files, as paths relative to src/. */
const imports = new Map<string, string[]>(
  sourceFiles(SRC).map((path) => {
    const text = readFileSync(path, "utf8");
    const targets = [...text.matchAll(/^(?:import|export)[^;]*?from "(\.[^"]+)"/gms)].map((m) =>
      relative(SRC, resolve(dirname(path), m[1]!)).replace(/\.js$/, ".ts"),
    );
    return [relative(SRC, path), targets];
  }),
);

/** The layers, lowest first; a file belongs to the first whose pattern matches. */
const LAYERS: Array<[string, RegExp]> = [
  ["floor", /^(errors|states|types|db|timestamp|logger|ticker|uuid|events|wake-debounce)\.ts$/],
  ["sql", /^sql\//],
  ["vocabulary", /^(options|validate|payload|schema-name|schema-version|schedule|tracing|dead-letter|stats|enqueue|call-tracker|notifier|waits|queue-internals|limits)\.ts$/],
  ["maintenance", /^maintenance\//],
  ["producer and worker", /^(queue\.ts|worker\/)/],
  ["surface", /^(metrics\/|index\.ts|migrate\.ts|grant\.ts)/],
  // The optional HTTP API (`djps/http`): above the surface, loaded only when imported.
  ["http", /^http\//],
  // The testing helpers (`djps/testing`): beside the HTTP API, loaded only when imported.
  ["testing", /^testing\//],
  // Clients made from other libraries' transactions (`djps/adapters`): loaded only when imported.
  ["adapters", /^adapters\//],
  ["cli", /^(cli\.ts|cli\/)/],
];

const layerOf = (file: string): number => {
  const index = LAYERS.findIndex(([, pattern]) => pattern.test(file));
  if (index < 0) throw new Error(`${file} is in no layer: add it to LAYERS and to docs/architecture.md`);
  return index;
};

describe("architecture", () => {
  it("puts every source file in a layer", () => {
    for (const file of imports.keys()) expect(() => layerOf(file), file).not.toThrow();
  });

  it("has no module import one from a layer above it", () => {
    const upward: string[] = [];
    for (const [file, targets] of imports) {
      for (const target of targets) if (layerOf(target) > layerOf(file)) upward.push(`${file} -> ${target}`);
    }
    expect(upward).toEqual([]);
  });

  it("keeps the CLI on the public API (`djps` and `djps/http`)", () => {
    const reaching = [...imports].flatMap(([file, targets]) =>
      file.startsWith("cli")
        ? targets.filter((t) => !t.startsWith("cli") && t !== "index.ts" && t !== "http/index.ts").map((t) => `${file} -> ${t}`)
        : [],
    );
    expect(reaching).toEqual([]);
  });

  const reachedFrom = (entry: string): Set<string> => {
    const reached = new Set<string>();
    const walk = (file: string): void => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const target of imports.get(file) ?? []) walk(target);
    };
    walk(entry);
    return reached;
  };

  it("loads no HTTP or testing code from the main entry", () => {
    const reached = reachedFrom("index.ts");
    expect([...reached].filter((f) => f.startsWith("http/") || f.startsWith("testing/"))).toEqual([]);
    expect(reached.size).toBeGreaterThan(10);
  });

  it("keeps djps/adapters off the main entry, and the main entry off it", () => {
    expect([...reachedFrom("index.ts")].filter((f) => f.startsWith("adapters/"))).toEqual([]);
    const reached = reachedFrom("adapters/index.ts");
    expect([...reached].filter((f) => f === "index.ts" || f.startsWith("http/") || f.startsWith("testing/") || f.startsWith("cli"))).toEqual([]);
    expect(reached.has("adapters/knex.ts")).toBe(true);
  });

  it("keeps djps/testing off the main entry and the HTTP API", () => {
    const reached = reachedFrom("testing/index.ts");
    expect([...reached].filter((f) => f === "index.ts" || f.startsWith("http/") || f.startsWith("cli"))).toEqual([]);
  });

  it("keeps the dashboard's browser code to itself (it is bundled for the browser, apart from the server)", () => {
    const client = "http/dashboard/client/";
    const crossing = [...imports].flatMap(([file, targets]) =>
      file.startsWith(client)
        ? targets.filter((t) => !t.startsWith(client)).map((t) => `${file} -> ${t}`)
        : targets.filter((t) => t.startsWith(client)).map((t) => `${file} -> ${t}`),
    );
    expect(crossing).toEqual([]);
    expect([...imports.keys()].filter((f) => f.startsWith(client)).length).toBeGreaterThan(5);
  });

  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
        return;
      }
      state.set(file, "visiting");
      for (const target of imports.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, "done");
    };
    for (const file of imports.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
