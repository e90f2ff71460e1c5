import type { Overview, Session } from "./types.js";

/** What every view may use: who is signed in, the latest overview, and a way to say something. */
export interface App {
  readonly session: Session;
  /** The latest overview pushed by the server (or fetched), null before the first. */
  readonly overview: Overview | null;
  /** Called on every new overview until the returned function is called. */
  onOverview(listener: (overview: Overview) => void): () => void;
  /** Shows a message in the page's status line (announced to screen readers). */
  notice(text: string, kind?: "info" | "error"): void;
}

/** A view draws itself into `main`; the function it returns runs when the reader leaves it. */
export type View = (main: HTMLElement, route: Route, app: App) => void | (() => void);

/** The part of the URL after `#`: `/jobs/ID` or `/jobs?status=dead`. */
export interface Route {
  readonly path: string[];
  readonly params: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = hash.split("?", 2);
  return { path: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search) };
}

/** A `#/…` link to a route, with its parameters. */
export function routeHref(path: string, params: Record<string, string | undefined | null> = {}): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ""}`;
}

/** Asks before an action; the browser's own dialog is keyboard-accessible and cannot be styled into something else. */
export function confirmAction(question: string): boolean {
  return window.confirm(question);
}
