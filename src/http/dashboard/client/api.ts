/** Talks to the API this page came from, with the key the user typed in. */

const KEY_STORAGE = "djps.key";

/**
 * Where the API is: the path this script was loaded from, less
 * `/dashboard/app.js`. The page names the script with the server's base path.
 */
export const base = new URL((document.currentScript as HTMLScriptElement | null)?.src ?? location.href).pathname.replace(/\/dashboard\/app\.js$/, "");

/**
 * The key lives in this tab's sessionStorage: typed in once, sent by this
 * script as an `Authorization: Bearer` header (never a cookie, so another
 * site cannot make the browser send it), gone when the tab closes.
 */
export const keyStore = {
  get: (): string | null => sessionStorage.getItem(KEY_STORAGE),
  set: (key: string): void => sessionStorage.setItem(KEY_STORAGE, key),
  clear: (): void => sessionStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function authHeaders(): Record<string, string> {
  const key = keyStore.get();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** One request; the JSON answer, or an `ApiError` with the API's message. */
export async function api<T = any>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch {
    throw new ApiError(0, "NETWORK", "The server cannot be reached");
  }
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the message below says so
  }
  if (!response.ok) {
    const error = json?.error;
    throw new ApiError(response.status, typeof error?.code === "string" ? error.code : "HTTP", typeof error?.message === "string" ? error.message : `HTTP ${response.status}`);
  }
  return json as T;
}

/** A query string from the defined values. */
export function queryString(params: Record<string, string | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== "") search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}
