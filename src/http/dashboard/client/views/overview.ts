import { api, ApiError } from "../api.js";
import { confirmAction, routeHref, type View } from "../app.js";
import { throughputChart } from "../chart.js";
import { h, replace } from "../elements.js";
import { ago, duration } from "../format.js";
import { STATUSES, type Overview, type QueueEntry } from "../types.js";

/** Every queue with its counts, lag and pause state, the last hour's throughput, and the workers. */
export const overviewView: View = (main, _route, app) => {
  let last = "";
  const draw = (overview: Overview | null) => {
    if (!overview) {
      replace(main, h("h1", {}, "Overview"), h("p", {}, "Loading…"));
      return;
    }
    // Redraw only when something changed, so that focus and selection stay put.
    const { at: _at, ...content } = overview;
    const text = JSON.stringify(content);
    if (text === last) return;
    last = text;
    const { stats, workers, throughput } = overview;
    const writable = !app.session.readOnly;
    const hadFocus = document.activeElement?.id;
    replace(
      main,
      h("h1", {}, "Overview"),
      h(
        "ul",
        { class: "totals", "aria-label": "Jobs by state, all queues" },
        ...STATUSES.map((s) =>
          h("li", {}, h("a", { href: routeHref("/jobs", { status: s }), id: `total-${s}` }, h("span", { class: "count" }, stats.totals[s]), h("span", { class: `label status-${s}` }, s))),
        ),
        h("li", {}, h("span", { class: "count" }, duration(stats.lagMs)), h("span", { class: "label" }, "lag")),
      ),
      h("h2", {}, "Throughput, last hour"),
      throughputChart(throughput),
      h("h2", {}, "Queues"),
      stats.queues.length === 0
        ? h("p", {}, "No jobs yet.")
        : h(
            "div",
            { class: "scroll" },
            h(
              "table",
              { class: "queues" },
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Queue"), ...STATUSES.map((s) => h("th", { scope: "col", class: "num" }, s)), h("th", { scope: "col" }, "Lag"), h("th", { scope: "col" }, "Limits"), h("th", { scope: "col" }, "State"), writable ? h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")) : null)),
              h(
                "tbody",
                {},
                ...stats.queues.map((q) =>
                  h(
                    "tr",
                    { "data-queue": q.queue },
                    h("th", { scope: "row" }, h("a", { href: routeHref("/jobs", { queue: q.queue }) }, q.queue)),
                    ...STATUSES.map((s) => h("td", { class: "num", "data-status": s }, q.counts[s] ? h("a", { href: routeHref("/jobs", { queue: q.queue, status: s }) }, q.counts[s]) : "0")),
                    h("td", {}, duration(q.lagMs)),
                    h("td", {}, limitsText(q.limits)),
                    h("td", {}, q.paused ? h("span", { class: "badge paused" }, "paused") : "running"),
                    writable ? h("td", {}, pauseButton(q.queue, q.paused, app)) : null,
                  ),
                ),
              ),
            ),
          ),
      h("h2", {}, "Workers"),
      workers.length === 0
        ? h("p", {}, "No worker has reported in the last hour.")
        : h(
            "div",
            { class: "scroll" },
            h(
              "table",
              { class: "workers" },
              h("thead", {}, h("tr", {}, ...["Worker", "Host", "Queues", "Concurrency", "In flight", "Last heartbeat"].map((t) => h("th", { scope: "col" }, t)))),
              h(
                "tbody",
                {},
                ...workers.map((w) =>
                  h(
                    "tr",
                    {},
                    h("td", {}, h("code", {}, w.id)),
                    h("td", {}, `${w.host} (pid ${w.pid})`),
                    h("td", {}, w.queues === null ? "all" : w.queues.join(", ")),
                    h("td", { class: "num" }, w.concurrency),
                    h("td", { class: "num" }, w.running),
                    h("td", {}, h("time", { datetime: w.seenAt, title: w.seenAt }, ago(w.seenAt, new Date(overview.at).getTime()))),
                  ),
                ),
              ),
            ),
          ),
    );
    if (hadFocus) document.getElementById(hadFocus)?.focus();
  };
  draw(app.overview);
  return app.onOverview(draw);
};

function pauseButton(queue: string, paused: boolean, app: Parameters<View>[2]): HTMLElement {
  const action = paused ? "resume" : "pause";
  return h(
    "button",
    {
      type: "button",
      class: "small",
      onclick: async () => {
        if (!confirmAction(`${paused ? "Resume" : "Pause"} queue “${queue}” for every worker?`)) return;
        try {
          await api("POST", `/queues/${encodeURIComponent(queue)}/${action}`);
          app.notice(`Queue ${queue} ${paused ? "resumed" : "paused"}.`);
        } catch (error) {
          app.notice(error instanceof ApiError ? error.message : String(error), "error");
        }
      },
    },
    `${paused ? "Resume" : "Pause"}`,
    h("span", { class: "visually-hidden" }, ` ${queue}`),
  );
}

/** A queue's limits in a few words: `≤ 20 running, 100 per 1 s, ≤ 2 per group`, or `—` for none. */
function limitsText(limits: QueueEntry["limits"]): string {
  const parts: string[] = [];
  if (limits?.concurrency != null) parts.push(`≤ ${limits.concurrency} running`);
  if (limits?.rate) parts.push(`${limits.rate.limit} per ${duration(limits.rate.intervalMs)}`);
  if (limits?.group) parts.push(limits.group.concurrency === 1 ? "groups one at a time" : `≤ ${limits.group.concurrency} per group`);
  return parts.length > 0 ? parts.join(", ") : "—";
}
