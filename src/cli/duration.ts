import { UsageError } from "./command.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration flag like `500ms`, `30s`, `15m`, `2h`, `7d` or `1w` (a bare
 * number is milliseconds), in milliseconds. Anything else is a usage error
 * naming the flag.
 */
export function parseDuration(text: string, flag: string, command: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`${command}: ${flag} expects a duration like 30s, 15m, 2h or 7d, got '${text}'`, command);
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "ms"]!);
}
