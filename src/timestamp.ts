import pg from "pg";

/** The type OID of `timestamptz`. */
const TIMESTAMPTZ = 1184;

const digit = (text: string, at: number): number => text.charCodeAt(at) - 48;

/** Two or more digits at `at`, or NaN if any is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const d = digit(text, i);
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Parses PostgreSQL's ISO output of a `timestamptz`
 * (`2026-11-25 02:05:57.123456+00`, `...+05:30`, `...-03:00:00`) without a
 * regular expression. A worker reads five of these per claimed job, and the
 * driver's general parser was a measurable share of a short job's cost.
 * Anything else (years before 1000 or after 9999, BC, infinity, another
 * DateStyle) goes to the driver's own parser, so the result is always what the
 * driver would have given.
 */
export function parseTimestamptz(text: string): Date {
  const n = text.length;
  if (n >= 22 && text.charCodeAt(4) === 45 && text.charCodeAt(10) === 32 && text.charCodeAt(13) === 58) {
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    let at = 19;
    let ms = 0;
    if (text.charCodeAt(at) === 46) {
      // Fraction: up to microseconds; milliseconds keep the first three digits, as the driver does.
      let scale = 100;
      at++;
      while (at < n) {
        const d = digit(text, at);
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale /= 10;
        at++;
      }
    }
    const sign = text.charCodeAt(at);
    if (year >= 1000 && (sign === 43 || sign === 45) && (n === at + 3 || n === at + 6 || n === at + 9)) {
      let offset = digits(text, at + 1, 2) * 3600;
      if (n > at + 3) offset += text.charCodeAt(at + 3) === 58 ? digits(text, at + 4, 2) * 60 : Number.NaN;
      if (n > at + 6) offset += text.charCodeAt(at + 6) === 58 ? digits(text, at + 7, 2) : Number.NaN;
      const utc = Date.UTC(year, month - 1, day, hour, minute, second, Math.floor(ms));
      const time = utc - (sign === 43 ? offset : -offset) * 1000;
      if (!Number.isNaN(time)) return new Date(time);
    }
  }
  return fallback(text);
}

const fallback = pg.types.getTypeParser(TIMESTAMPTZ, "text") as (text: string) => Date;

/**
 * Type parsers for the statements djps runs on its pools: the driver's own,
 * with the fast `timestamptz` parser above. Passed per query, so a host's
 * global `pg.types` settings for its own queries are left alone.
 */
export const rowTypes = {
  getTypeParser(oid: number, format?: string): unknown {
    if (oid === TIMESTAMPTZ && format !== "binary") return parseTimestamptz;
    return (pg.types.getTypeParser as (oid: number, format?: string) => unknown)(oid, format);
  },
};
