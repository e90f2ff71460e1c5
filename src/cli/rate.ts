import type { RateLimit } from "../index.js";
import { UsageError } from "./command.js";
import { parseDuration } from "./duration.js";

/**
 * A rate flag: `N/DURATION` (`100/1s`, `5/500ms`, `1000/1h`; a unit alone
 * means one of it: `100/s`), as `{ limit, intervalMs }`. The numbers' ranges
 * are the API's to check; anything not of this shape is a usage error
 * naming the flag.
 */
export function parseRate(text: string, flag: string, command: string): RateLimit {
  const match = /^(\d+)\/(\S+)$/.exec(text.trim());
  const wrong = () => new UsageError(`${command}: ${flag} expects a rate like 100/1s, 5/500ms or 1000/1h, got '${text}'`, command);
  if (!match) throw wrong();
  const interval = /^(ms|s|m|h|d)$/.test(match[2]!) ? `1${match[2]}` : match[2]!;
  let intervalMs: number;
  try {
    intervalMs = parseDuration(interval, flag, command);
  } catch {
    throw wrong();
  }
  return { limit: Number(match[1]), intervalMs };
}

const UNITS: Array<[string, number]> = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** A rate as the flag takes it: `100/1s`, `5/500ms`. */
export function formatRate(rate: RateLimit): string {
  const [unit, ms] = UNITS.find(([, ms]) => rate.intervalMs % ms === 0) ?? ["ms", 1];
  return `${rate.limit}/${rate.intervalMs / ms}${unit}`;
}
