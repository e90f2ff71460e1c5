import { api, ApiError } from "../api.js";
import type { View } from "../app.js";
import { h, replace } from "../elements.js";
import { time } from "../format.js";

interface Schedule {
  name: string;
  cron: string;
  timeZone: string;
  type: string;
  queue: string;
  lastTick: string | null;
  nextRunAt: string | null;
}

/** The recurring schedules with their cron, time zone, next and last tick. */
export const schedulesView: View = (main) => {
  const list = h("div", {}, h("p", {}, "Loading…"));
  replace(main, h("h1", {}, "Schedules"), list);
  void (async () => {
    try {
      const { schedules } = await api<{ schedules: Schedule[] }>("GET", "/schedules");
      replace(
        list,
        schedules.length === 0
          ? h("p", {}, "No schedules. Create them in code with queue.schedule().")
          : h(
              "div",
              { class: "scroll" },
              h(
                "table",
                {},
                h("thead", {}, h("tr", {}, ...["Name", "Cron", "Time zone", "Type", "Queue", "Next tick", "Last tick"].map((t) => h("th", { scope: "col" }, t)))),
                h(
                  "tbody",
                  {},
                  ...schedules.map((s) =>
                    h("tr", {}, h("td", {}, s.name), h("td", {}, h("code", {}, s.cron)), h("td", {}, s.timeZone), h("td", {}, s.type), h("td", {}, s.queue), h("td", {}, time(s.nextRunAt)), h("td", {}, time(s.lastTick))),
                  ),
                ),
              ),
            ),
      );
    } catch (error) {
      replace(list, h("p", { class: "error", role: "alert" }, error instanceof ApiError ? error.message : String(error)));
    }
  })();
};
