import { api, ApiError } from "../api.js";
import { confirmAction, routeHref, type View } from "../app.js";
import { h, replace } from "../elements.js";
import { time } from "../format.js";

interface Group {
  queue: string;
  type: string;
  lastError: string | null;
  count: number;
  latest: string | null;
  example: string;
}

/** Dead jobs grouped by queue, type and last error; each group retried or purged at once. */
export const deadView: View = (main, _route, app) => {
  const list = h("div", { "aria-live": "polite" }, h("p", {}, "Loading…"));
  replace(main, h("h1", {}, "Dead letters"), list);
  let shown = "";
  let version = 0;

  const load = async () => {
    const mine = ++version;
    try {
      const { groups } = await api<{ groups: Group[] }>("GET", "/dead/groups");
      if (mine !== version) return;
      const text = JSON.stringify(groups);
      if (text === shown) return;
      shown = text;
      replace(list, groups.length === 0 ? h("p", {}, "No dead jobs.") : table(groups));
    } catch (error) {
      if (mine === version) replace(list, h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : String(error)));
    }
  };

  const act = async (group: Group, action: "retry" | "purge") => {
    const what = `${group.count} dead ${group.type} job${group.count === 1 ? "" : "s"} of queue ${group.queue}`;
    if (!confirmAction(action === "retry" ? `Retry ${what}?` : `Delete ${what} for good?`)) return;
    try {
      const answer = await api<{ retried?: number; purged?: number }>("POST", `/dead/${action}`, { queue: group.queue, type: group.type, lastError: group.lastError });
      app.notice(action === "retry" ? `${answer.retried} jobs queued again.` : `${answer.purged} jobs deleted.`);
    } catch (error) {
      app.notice(error instanceof ApiError ? error.message : String(error), "error");
    }
    await load();
  };

  const table = (groups: Group[]) =>
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "dead" },
        h("thead", {}, h("tr", {}, ...["Queue", "Type", "Last error", "Jobs", "Latest", ""].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          ...groups.map((g) =>
            h(
              "tr",
              {},
              h("td", {}, g.queue),
              h("td", {}, g.type),
              h("td", {}, g.lastError === null ? "—" : g.lastError.length > 200 ? h("details", {}, h("summary", {}, `${g.lastError.slice(0, 120)}…`), h("pre", { class: "message" }, g.lastError)) : h("span", { class: "message" }, g.lastError)),
              h("td", { class: "num" }, h("a", { href: routeHref("/jobs", { queue: g.queue, type: g.type, status: "dead" }) }, g.count)),
              h("td", {}, time(g.latest)),
              h(
                "td",
                { class: "row-actions" },
                h("a", { href: routeHref(`/jobs/${encodeURIComponent(g.example)}`) }, "Newest"),
                // A group without a recorded error cannot be told apart from the others of its type by filter: no bulk action.
                !app.session.readOnly && g.lastError !== null
                  ? [
                      h("button", { type: "button", class: "small", onclick: () => void act(g, "retry") }, "Retry all"),
                      h("button", { type: "button", class: "small danger", onclick: () => void act(g, "purge") }, "Purge all"),
                    ]
                  : null,
              ),
            ),
          ),
        ),
      ),
    );

  void load();
  return app.onOverview(() => void load());
};
