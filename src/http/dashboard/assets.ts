import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { HttpError } from "../errors.js";

/** One file of the dashboard, read once and kept in memory, plain and gzipped. */
export interface Asset {
  readonly body: Buffer;
  readonly gzip: Buffer;
  readonly contentType: string;
  /** A hash of the content: the `v` of the file's URL and its ETag. */
  readonly version: string;
}

/** The files the page loads, by name; `npm run build` writes them to `dist/dashboard/`. */
const FILES: Readonly<Record<string, string>> = {
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

/**
 * Where the built files are: beside the bundled `djps/http` (`dist/`) in the
 * package, or in the repository's `dist/` when running from the sources.
 */
function assetDirectory(): URL | undefined {
  const candidates = [new URL("./dashboard/", import.meta.url), new URL("../../../dist/dashboard/", import.meta.url)];
  return candidates.find((dir) => existsSync(new URL("app.js", dir)));
}

let loaded: ReadonlyMap<string, Asset> | undefined;

/** The dashboard's files, read on first use. Throws 503 when they were never built. */
export function dashboardAssets(): ReadonlyMap<string, Asset> {
  if (loaded) return loaded;
  const dir = assetDirectory();
  if (!dir) throw new HttpError(503, "UNAVAILABLE", "The dashboard's files are not built: run `npm run build`");
  const assets = new Map<string, Asset>();
  for (const [name, contentType] of Object.entries(FILES)) {
    const body = readFileSync(new URL(name, dir));
    const version = createHash("sha256").update(body).digest("base64url").slice(0, 16);
    assets.set(name, { body, gzip: gzipSync(body, { level: 9 }), contentType, version });
  }
  loaded = assets;
  return assets;
}

/** Does the request accept gzip? (Every browser does; a bare `curl` does not.) */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(",") : (header ?? "");
  return value.split(",").some((part) => {
    const [coding, ...params] = part.split(";").map((p) => p.trim().toLowerCase());
    if (coding !== "gzip") return false;
    const q = params.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
