import { api, ApiError } from "../api.js";
import { confirmAction, routeHref, type View } from "../app.js";
import { h, replace } from "../elements.js";
import { badge, duration, jsonBlock, time } from "../format.js";
import type { Job } from "../types.js";

/** Which actions a state allows (the API checks again, atomically). */
const ACTIONS: ReadonlyArray<{ action: "retry" | "cancel"; label: string; from: readonly string[]; question: string }> = [
  { action: "retry", label: "Retry now", from: ["failed", "canceled"], question: "Retry this job now?" },
  { action: "retry", label: "Redrive from dead", from: ["dead"], question: "Put this dead job back in its queue for one more attempt?" },
  { action: "cancel", label: "Cancel", from: ["queued", "failed"], question: "Cancel this job? It will not run again unless retried." },
  { action: "cancel", label: "Cancel (stop it)", from: ["running"], question: "Stop this running job? Its worker aborts the handler and the job ends canceled, unless it finishes first." },
];

/** One job: its fields, payload, result, error history with stacks, trace id, and the actions its state allows. */
export const jobView: View = (main, route, app) => {
  const id = route.path[1] ?? "";
  let version = 0;
  let shown = "";
  let trace: Promise<{ traceId: string | null }> | undefined;
  /** The job's queue, once loaded: its counts say when to load again. */
  let queueOf: string | null = null;

  const load = async () => {
    const mine = ++version;
    try {
      // The trace context never changes: asked for once, with the first load.
      trace ??= api<{ traceId: string | null }>("GET", `/jobs/${encodeURIComponent(id)}/trace`).catch(() => ({ traceId: null }));
      const [job, traced] = await Promise.all([api<Job>("GET", `/jobs/${encodeURIComponent(id)}`), trace]);
      if (mine !== version) return;
      queueOf = job.queue;
      const text = JSON.stringify([job, traced]);
      if (text === shown) return;
      shown = text;
      draw(job, traced.traceId);
    } catch (error) {
      if (mine !== version) return;
      shown = "";
      replace(main, h("h1", {}, "Job"), h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : String(error)), h("p", {}, h("a", { href: routeHref("/jobs") }, "All jobs")));
    }
  };

  const act = async (action: "retry" | "cancel", question: string) => {
    if (!confirmAction(question)) return;
    try {
      await api("POST", `/jobs/${encodeURIComponent(id)}/${action}`);
      app.notice(action === "retry" ? "The job is queued again." : "The job is canceled.");
    } catch (error) {
      app.notice(error instanceof ApiError ? error.message : String(error), "error");
    }
    await load();
  };

  const draw = (job: Job, traceId: string | null) => {
    const actions = app.session.readOnly ? [] : ACTIONS.filter((a) => a.from.includes(job.status));
    const row = (label: string, value: Node | string | number | null) => [h("dt", {}, label), h("dd", {}, value ?? "—")];
    replace(
      main,
      h("p", { class: "crumbs" }, h("a", { href: routeHref("/jobs", { queue: job.queue }) }, `Jobs in ${job.queue}`)),
      h("h1", {}, h("span", { class: "job-type" }, job.type), " ", badge(job.status)),
      actions.length
        ? h("div", { class: "actions" }, ...actions.map((a) => h("button", { type: "button", "data-action": a.action, onclick: () => void act(a.action, a.question) }, a.label)))
        : null,
      h(
        "dl",
        { class: "fields" },
        row("Id", h("code", {}, job.id)),
        row("Queue", job.queue),
        row("State", job.status),
        row("Attempts", `${job.attempts} of ${job.maxAttempts}`),
        row("Priority", job.priority),
        row("Idempotency key", job.idempotencyKey),
        row("Group", job.group),
        row("Timeout", job.timeoutMs === null ? null : duration(job.timeoutMs)),
        row("Run at", time(job.runAt)),
        row("Created", time(job.createdAt)),
        row("Started", time(job.startedAt)),
        row("Finished", time(job.finishedAt)),
        row("Updated", time(job.updatedAt)),
        row("Worker", job.lockedBy),
        row("Lease until", time(job.lockedUntil)),
        row("Trace id", traceId === null ? null : h("code", {}, traceId)),
      ),
      h("h2", {}, "Payload"),
      jsonBlock(job.payload, "Payload"),
      h("h2", {}, "Result"),
      job.result === null || job.result === undefined ? h("p", {}, "None.") : jsonBlock(job.result, "Result"),
      h("h2", {}, `Errors (${job.errors.length})`),
      job.errors.length === 0
        ? h("p", {}, "None.")
        : h(
            "ul",
            { class: "errors", "aria-label": "Errors, newest first" },
            ...[...job.errors].reverse().map((e) =>
              h(
                "li",
                {},
                h("p", {}, h("strong", {}, `Attempt ${e.attempt}`), " · ", time(e.at), e.unstarted ? " · the handler had not started" : ""),
                h("pre", { class: "message" }, e.message),
                e.stack ? h("details", {}, h("summary", {}, "Stack"), h("pre", { class: "stack" }, e.stack)) : null,
              ),
            ),
          ),
    );
  };

  void load();
  // Reload when the counts of the job's queue move (the job may have changed state), not on every event.
  let seen = "";
  return app.onOverview((overview) => {
    const text = JSON.stringify(overview.stats.queues.find((q) => q.queue === queueOf)?.counts ?? null);
    if (seen && text !== seen) void load();
    seen = text;
  });
};
