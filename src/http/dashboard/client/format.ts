import { h } from "./elements.js";

/** A time as the reader's local date and time, with the ISO value as its title. */
export function time(iso: string | null): HTMLElement | string {
  if (!iso) return "—";
  const date = new Date(iso);
  return h("time", { datetime: iso, title: iso }, date.toLocaleString());
}

/** "5 s ago", "3 min ago". */
export function ago(iso: string, now = Date.now()): string {
  return `${duration(now - new Date(iso).getTime())} ago`;
}

/** A duration in the largest unit that fits. */
export function duration(ms: number | null): string {
  if (ms === null) return "—";
  const s = Math.max(0, ms) / 1000;
  if (s < 1) return `${Math.round(Math.max(0, ms))} ms`;
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} d`;
}

/** Values longer than this, pretty-printed, are folded until asked for. */
const FOLD_CHARS = 2_000;

/** A JSON value pretty-printed as text; a large one folded in a `<details>`. */
export function jsonBlock(value: unknown, label: string): HTMLElement {
  const text = value === undefined ? "null" : JSON.stringify(value, null, 2);
  const pre = h("pre", { class: "json", tabindex: 0, "aria-label": label }, text);
  if (text.length <= FOLD_CHARS) return pre;
  return h("details", {}, h("summary", {}, `${label}: ${text.length.toLocaleString()} characters (show)`), pre);
}

/** A status as a labelled badge (text, not colour alone). */
export function badge(status: string): HTMLElement {
  return h("span", { class: `badge status-${status}` }, status);
}

/** The first 8 characters of an id, the whole id in its title. */
export function shortId(id: string): HTMLElement {
  return h("code", { title: id }, id.slice(0, 8));
}
