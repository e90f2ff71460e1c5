import { keyStore } from "../api.js";
import { h, replace } from "../elements.js";

/** Asks for an API key once; it is kept in this tab's sessionStorage. */
export function showLogin(main: HTMLElement, message: string | null, done: () => void): void {
  const input = h("input", { id: "key", name: "key", type: "password", autocomplete: "off", required: true, spellcheck: "false", placeholder: "djps_…" });
  const form = h(
    "form",
    {
      class: "login",
      onsubmit: (event: SubmitEvent) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        keyStore.set(key);
        done();
      },
    },
    h("h1", {}, "djps"),
    h("label", { for: "key" }, "API key"),
    input,
    h("p", { class: "hint" }, "Create one with `npx djps keys create --name dashboard` (add --read-only for a view without actions). It is kept in this browser tab only and sent with each request."),
    message ? h("p", { class: "error", role: "alert" }, message) : null,
    h("button", { type: "submit" }, "Open the dashboard"),
  );
  replace(main, form);
  input.focus();
}
