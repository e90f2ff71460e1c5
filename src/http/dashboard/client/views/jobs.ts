import { api, ApiError, queryString } from "../api.js";
import { routeHref, type View } from "../app.js";
import { h, replace } from "../elements.js";
import { badge, shortId, time } from "../format.js";
import { STATUSES, type Job } from "../types.js";

const PAGE = 50;

/**
 * Jobs by queue, state and type, newest first, a page at a time (keyset:
 * the page's URL carries the cursor, so every page can be shared); or the
 * jobs found by id or idempotency key. The page refreshes itself when the
 * counts it depends on change.
 */
export const jobsView: View = (main, route, app) => {
  const queue = route.params.get("queue") ?? "";
  const status = route.params.get("status") ?? "";
  const type = route.params.get("type") ?? "";
  const cursor = route.params.get("cursor") ?? "";
  const q = route.params.get("q") ?? "";

  const results = h("div", { class: "results", "aria-live": "polite" }, h("p", {}, "Loading…"));
  const queueInput = h("input", { id: "filter-queue", name: "queue", value: queue, list: "queue-names", autocomplete: "off" });
  const typeInput = h("input", { id: "filter-type", name: "type", value: type, autocomplete: "off" });
  const statusSelect = h("select", { id: "filter-status", name: "status" }, h("option", { value: "" }, "any"), ...STATUSES.map((s) => h("option", { value: s, selected: s === status }, s)));
  const searchInput = h("input", { id: "search", name: "q", type: "search", value: q, autocomplete: "off", placeholder: "job id or idempotency key" });
  const names = h("datalist", { id: "queue-names" }, ...(app.overview?.stats.queues ?? []).map((entry) => h("option", { value: entry.queue })));

  replace(
    main,
    h("h1", {}, "Jobs"),
    h(
      "form",
      {
        class: "filters",
        role: "search",
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          location.hash = routeHref("/jobs", { q: searchInput.value.trim() });
        },
      },
      h("label", { for: "search" }, "Find"),
      searchInput,
      h("button", { type: "submit" }, "Search"),
    ),
    h(
      "form",
      {
        class: "filters",
        onsubmit: (event: SubmitEvent) => {
          event.preventDefault();
          location.hash = routeHref("/jobs", { queue: queueInput.value.trim(), status: statusSelect.value, type: typeInput.value.trim() });
        },
      },
      h("label", { for: "filter-queue" }, "Queue"),
      queueInput,
      names,
      h("label", { for: "filter-status" }, "State"),
      statusSelect,
      h("label", { for: "filter-type" }, "Type"),
      typeInput,
      h("button", { type: "submit" }, "Filter"),
    ),
    results,
  );

  let version = 0;
  const load = async () => {
    const mine = ++version;
    try {
      let jobs: Job[];
      let next: string | null = null;
      if (q) {
        jobs = (await api<{ jobs: Job[] }>("GET", `/search${queryString({ q })}`)).jobs;
      } else {
        const page = await api<{ jobs: Job[]; nextCursor: string | null }>("GET", `/jobs${queryString({ queue, status, type, cursor, limit: String(PAGE) })}`);
        jobs = page.jobs;
        next = page.nextCursor;
      }
      if (mine !== version) return;
      replace(results, jobTable(jobs, q ? `No job has the id or idempotency key “${q}”.` : "No jobs match."), pager(next));
    } catch (error) {
      if (mine !== version) return;
      replace(results, h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : String(error)));
    }
  };

  const pager = (next: string | null) =>
    q
      ? null
      : h(
          "nav",
          { class: "pager", "aria-label": "Pages" },
          cursor ? h("a", { href: routeHref("/jobs", { queue, status, type }) }, "First page") : null,
          next ? h("a", { href: routeHref("/jobs", { queue, status, type, cursor: next }), rel: "next" }, "Next page") : null,
        );

  void load();
  // Reload when the counts of the queues shown change (a new job, a state change).
  let seen = "";
  return app.onOverview((overview) => {
    const relevant = overview.stats.queues.filter((entry) => !queue || entry.queue === queue).map((entry) => entry.counts);
    const text = JSON.stringify(relevant);
    if (seen && text !== seen) void load();
    seen = text;
  });
};

export function jobTable(jobs: readonly Job[], empty: string): HTMLElement {
  if (jobs.length === 0) return h("p", {}, empty);
  return h(
    "div",
    { class: "scroll" },
    h(
      "table",
      { class: "jobs" },
      h("thead", {}, h("tr", {}, ...["Job", "Type", "Queue", "State", "Attempts", "Created", "Updated"].map((t) => h("th", { scope: "col" }, t)))),
      h(
        "tbody",
        {},
        ...jobs.map((job) =>
          h(
            "tr",
            { "data-job": job.id },
            h("td", {}, h("a", { href: routeHref(`/jobs/${encodeURIComponent(job.id)}`) }, shortId(job.id))),
            h("td", {}, job.type),
            h("td", {}, job.queue),
            h("td", {}, badge(job.status)),
            h("td", { class: "num" }, `${job.attempts}/${job.maxAttempts}`),
            h("td", {}, time(job.createdAt)),
            h("td", {}, time(job.updatedAt)),
          ),
        ),
      ),
    ),
  );
}
