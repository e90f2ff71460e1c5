/**
 * `npm run bench [-- options]`: runs bench/run.ts on the Node of bench/'s own
 * dependencies, installing them first when they are missing or older than
 * bench/package-lock.json.
 *
 * The peers under test need a newer Node than djps supports, so they, and
 * that Node (the `node` package), are dependencies of bench/package.json, not
 * of the root package: djps's own install and test suite stay on its oldest
 * supported Node. djps runs in the same process, so every system is measured
 * on the same Node, and as it ships: from ../dist, which this script builds
 * first (`npm run build`), like the peers' published JavaScript. Files under bench/ resolve the peers from
 * bench/node_modules; the worker processes of process-2proc are started with
 * the same Node (process.execPath) and resolve `tsx` from the working
 * directory, the repository root.
 *
 * Written in plain JavaScript so that any Node the root package supports can
 * start it.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bench = dirname(fileURLToPath(import.meta.url));
const root = dirname(bench);
const modules = join(bench, "node_modules");
const lockfile = join(bench, "package-lock.json");
const installed = join(modules, ".package-lock.json");
const node = join(modules, ".bin", process.platform === "win32" ? "node.cmd" : "node");

const stale = !existsSync(node) || !existsSync(installed) || statSync(installed).mtimeMs < statSync(lockfile).mtimeMs;
if (stale) {
  console.error("bench: installing bench/'s dependencies (npm ci --prefix bench)");
  // The npm that runs this script, when there is one, else the one on the PATH.
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ["npm", []];
  const result = spawnSync(npm[0], [...npm[1], "ci", "--prefix", bench, "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32" && !process.env.npm_execpath,
  });
  if (result.status !== 0) {
    console.error("bench: installing bench/'s dependencies failed");
    process.exit(result.status ?? 1);
  }
}

// djps as it ships: the build of the working tree.
console.error("bench: building djps (npm run build)");
{
  const npm = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ["npm", []];
  const result = spawnSync(npm[0], [...npm[1], "run", "build", "--silent"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    shell: process.platform === "win32" && !process.env.npm_execpath,
  });
  if (result.status !== 0) {
    console.error("bench: building djps failed");
    process.exit(result.status ?? 1);
  }
}

// tsx from bench/node_modules, by URL, so that it is found whatever the root has installed.
const tsx = import.meta.resolve("tsx");
const child = spawn(node, ["--import", tsx, join(bench, "run.ts"), ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
const forward = (signal) => child.kill(signal);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, forward);
child.on("exit", (code, signal) => {
  if (!signal) process.exit(code ?? 1);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});
