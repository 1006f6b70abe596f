// Credits: balance, the plan's usage meter and the ledger of every movement.
import { get } from "../api.js";
import { credits } from "../credits-state.js";
import { h, nextId, statusLine, when } from "../ui.js";

const NAMES = { credits: "Credits", images: "Images", edits: "Edits", videos: "Videos" };

function meter(label, c) {
  const id = nextId("meter");
  const text = c.limit === null ? `${c.used} used (no limit)` : `${c.used} of ${c.limit} used${c.warning ? " · nearly at the limit" : ""}`;
  return h(
    "div",
    { class: `usage${c.warning ? " warning" : ""}` },
    h("label", { for: id, text: label }),
    c.limit === null ? "" : h("meter", { id, min: 0, max: c.limit, value: c.used, low: c.limit * 0.8, high: c.limit * 0.95, optimum: 0 }),
    h("span", { class: "meta", text }),
  );
}

export function creditsView(root) {
  const summary = h("div", { class: "summary", "aria-live": "polite" });
  const usage = h("div", { class: "meters" });
  const ledger = h("tbody");
  const more = h("button", { type: "button", class: "secondary", text: "Older movements", hidden: true });
  const status = statusLine();
  let cursor = null;

  const row = (e) =>
    h(
      "tr",
      {},
      h("td", { text: when(e.created_at) }),
      h("td", {}, h("span", { class: `pill ${e.kind}`, text: e.kind })),
      h("td", { class: "num", text: `${e.total_delta > 0 ? "+" : ""}${e.total_delta}` }),
      h("td", { class: "num", text: String(e.amount) }),
      h("td", { text: e.reason }),
      h("td", { class: "num", text: String(e.available_after) }),
      h("td", { class: "num", text: String(e.reserved_after) }),
    );

  const loadLedger = async (append) => {
    const q = new URLSearchParams({ limit: "25" });
    if (append && cursor) q.set("cursor", cursor);
    const page = await get(`credits/ledger?${q}`);
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!append) ledger.replaceChildren();
    ledger.append(...page.entries.map(row));
  };

  more.addEventListener("click", () => loadLedger(true).catch((e) => status.error(e)));
  root.append(
    h("h2", { text: "Credits" }),
    summary,
    h("h3", { text: "Usage this period" }),
    usage,
    h("h3", { text: "Ledger" }),
    status.el,
    h(
      "div",
      { class: "scroll" },
      h(
        "table",
        { class: "ledger" },
        h("caption", { text: "Every credit movement, newest first" }),
        h("thead", {}, h("tr", {}, ...["When", "Kind", "Balance change", "Amount", "Why", "Available after", "Reserved after"].map((t) => h("th", { scope: "col", text: t })))),
        ledger,
      ),
    ),
    more,
  );
  return {
    reload: true,
    async load() {
      status.loading("Loading your credits…");
      summary.replaceChildren();
      try {
        const c = await credits.load();
        const u = c.usage;
        summary.replaceChildren(
          h("p", { class: "big" }, h("strong", { text: String(c.available) }), " credits available"),
          h("p", { class: "meta", text: `${c.reserved} reserved by running jobs · ${c.plan} plan, ${c.monthly_grant_credits} credits a month · 1 credit = US$${c.usd_per_credit} · resets ${when(u.resets_at)}` }),
        );
        usage.replaceChildren(
          meter(NAMES.credits, u.credits),
          ...Object.entries(u.buckets).filter(([, b]) => b.limit !== null).map(([k, b]) => meter(NAMES[k] || k, b)),
          ...(u.warnings || []).map((w) => h("p", { class: "warn-text", text: typeof w === "string" ? w : w.message })),
        );
        await loadLedger(false);
        if (ledger.children.length) status.clear();
        else status.empty("No credit movements yet.");
      } catch (e) {
        status.error(e);
      }
    },
  };
}
