import type { IncomingMessage } from "node:http";
import { HttpError } from "../errors.js";
import type { Reply } from "../routes.js";
import { acceptsGzip, dashboardAssets, type Asset } from "./assets.js";

/**
 * The Content-Security-Policy of the page: scripts, styles and requests only
 * from this origin (the bundled files), nothing inline, no plugins, no
 * framing, no `<base>` and no form posts elsewhere.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every dashboard response, the page's and its files'. */
const COMMON_HEADERS: Readonly<Record<string, string>> = {
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "Cross-Origin-Resource-Policy": "same-origin",
};

/** The page: an empty shell that loads the bundled script and style sheet. */
export function dashboardPage(basePath: string): Reply {
  const assets = dashboardAssets();
  // `basePath` is validated as path segments of [A-Za-z0-9._~-], so it needs no escaping.
  const url = (name: string) => `${basePath}/dashboard/${name}?v=${assets.get(name)!.version}`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>djps</title>
<link rel="stylesheet" href="${url("app.css")}">
<script defer src="${url("app.js")}"></script>
</head>
<body>
<noscript>The djps dashboard needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;
  return {
    status: 200,
    bytes: Buffer.from(html, "utf8"),
    headers: {
      ...COMMON_HEADERS,
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": CONTENT_SECURITY_POLICY,
      "X-Frame-Options": "DENY",
      "Cross-Origin-Opener-Policy": "same-origin",
    },
  };
}

/**
 * One of the page's files. Asked for with the version the page names, it may
 * be cached for good (a new build changes the version, and so the URL);
 * without it, it is revalidated by ETag each time.
 */
export function dashboardFile(req: IncomingMessage, name: string, version: string | null): Reply {
  const asset: Asset | undefined = dashboardAssets().get(name);
  if (!asset) throw new HttpError(404, "NOT_FOUND", "No such dashboard file");
  const etag = `"${asset.version}"`;
  const headers: Record<string, string> = {
    ...COMMON_HEADERS,
    "Content-Type": asset.contentType,
    "Cache-Control": version === asset.version ? "public, max-age=31536000, immutable" : "no-cache",
    ETag: etag,
    Vary: "Accept-Encoding",
  };
  if (req.headers["if-none-match"] === etag) return { status: 304, bytes: Buffer.alloc(0), headers };
  if (acceptsGzip(req.headers["accept-encoding"])) return { status: 200, bytes: asset.gzip, headers: { ...headers, "Content-Encoding": "gzip" } };
  return { status: 200, bytes: asset.body, headers };
}
