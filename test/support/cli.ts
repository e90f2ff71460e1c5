/**
 * Runs the `djps` command line from source (`node --import tsx src/cli.ts`)
 * in a child process, without DATABASE_URL unless given. The built CLI is
 * tested in cli.test.ts.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.DJPS_DEBUG;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", cli, ...args], { env: { ...base, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== "number") return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}
