import "./app.css";
import { api, ApiError, keyStore } from "./api.js";
import { currentRoute, type App, type View } from "./app.js";
import { h, replace } from "./elements.js";
import { connectLive, type LiveState } from "./live.js";
import type { Overview, Session } from "./types.js";
import { deadView } from "./views/dead.js";
import { jobView } from "./views/job.js";
import { jobsView } from "./views/jobs.js";
import { showLogin } from "./views/login.js";
import { overviewView } from "./views/overview.js";
import { schedulesView } from "./views/schedules.js";

const root = document.getElementById("app")!;

const STATE_TEXT: Record<LiveState, string> = {
  connecting: "Connecting…",
  live: "Live",
  offline: "Offline, reconnecting…",
  "database-down": "Database unreachable",
};

const NAV: ReadonlyArray<[string, string]> = [
  ["#/", "Overview"],
  ["#/jobs", "Jobs"],
  ["#/dead", "Dead letters"],
  ["#/schedules", "Schedules"],
];

function viewFor(path: string[]): View {
  if (path[0] === "jobs" && path[1]) return jobView;
  if (path[0] === "jobs") return jobsView;
  if (path[0] === "dead") return deadView;
  if (path[0] === "schedules") return schedulesView;
  return overviewView;
}

/** Finds out who the stored key is (or whether the API needs none), then shows the dashboard or asks for a key. */
async function boot(message: string | null = null): Promise<void> {
  let session: Session;
  try {
    session = await api<Session>("GET", "/key");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      const hadKey = keyStore.get() !== null;
      keyStore.clear();
      showLogin(root, message ?? (hadKey ? "That key was refused: it is unknown or revoked." : null), () => void boot());
      return;
    }
    replace(root, h("main", { class: "main" }, h("h1", {}, "djps"), h("p", { class: "error", role: "alert" }, error instanceof Error ? error.message : String(error)), h("button", { type: "button", onclick: () => void boot() }, "Try again")));
    return;
  }
  start(session);
}

function start(session: Session): void {
  const listeners = new Set<(overview: Overview) => void>();
  const indicator = h("span", { class: "live connecting", role: "status", "aria-live": "polite", id: "live" }, STATE_TEXT.connecting);
  const notice = h("p", { class: "notice", role: "status", "aria-live": "polite", id: "notice" });
  const main = h("main", { class: "main", id: "main", tabindex: -1 });
  const links = NAV.map(([href, label]) => h("a", { href }, label));
  const signOut = session.auth
    ? h(
        "button",
        {
          type: "button",
          class: "small",
          onclick: () => {
            stopLive();
            keyStore.clear();
            location.hash = "#/";
            void boot();
          },
        },
        "Forget key",
      )
    : null;
  replace(
    root,
    h("a", { class: "skip", href: "#main", onclick: (e: MouseEvent) => (e.preventDefault(), main.focus()) }, "Skip to content"),
    h(
      "header",
      { class: "top" },
      h("span", { class: "brand" }, "djps"),
      h("nav", { "aria-label": "Views" }, ...links),
      h("span", { class: "who" }, session.readOnly ? "read-only" : "read-write", session.queues ? ` · ${session.queues.join(", ")}` : ""),
      indicator,
      signOut,
    ),
    notice,
    main,
  );

  const app: App = {
    session,
    overview: null,
    onOverview(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    notice(text, kind = "info") {
      notice.className = `notice ${kind}`;
      notice.textContent = text;
    },
  };
  const publish = (overview: Overview) => {
    (app as { overview: Overview | null }).overview = overview;
    for (const listener of [...listeners]) listener(overview);
  };

  let leave: void | (() => void);
  const show = () => {
    if (typeof leave === "function") leave();
    const route = currentRoute();
    const here = `#/${route.path[0] ?? ""}`;
    for (const link of links) {
      if (link.getAttribute("href") === here) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    leave = viewFor(route.path)(main, route, app);
  };
  window.onhashchange = () => {
    app.notice("");
    show();
  };
  show();

  // The first overview comes by request, the rest by the event stream.
  void api<Overview>("GET", "/overview").then(publish, () => {});
  const stopLive = connectLive({
    onSnapshot: (data) => publish(data as Overview),
    onState: (state) => {
      indicator.className = `live ${state}`;
      indicator.textContent = STATE_TEXT[state];
    },
    onUnauthorized: () => {
      keyStore.clear();
      void boot("The key was refused: it is unknown or revoked.");
    },
  });
}

void boot();
