// Batches: a CSV, its dry-run preview (rows, cost, row errors with row and column), run now or at a
// time, progress per row, the manifest.
import { api, get, post, sleep } from "../api.js";
import { busy, field, h, nextId, select, statusLine, when } from "../ui.js";

const ENDED = ["succeeded", "partial", "failed", "canceled"];

function table(caption, head, rows) {
  return h(
    "table",
    {},
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, ...head.map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c ?? ""))))),
  );
}

export function batchesView(root) {
  const file = h("input", { type: "file", accept: ".csv,text/csv" });
  const csv = h("textarea", { rows: 6, spellcheck: false, placeholder: "operation,prompt,quality\ncreate,a blue cup,draft" });
  const template = select([["", "Download a CSV template…"]]);
  const name = h("input", { type: "text", placeholder: "Spring campaign" });
  const concurrency = h("input", { type: "number", min: 1, max: 10, value: 4, inputmode: "numeric" });
  const skip = h("input", { type: "checkbox", id: nextId() });
  const when_ = h("input", { type: "datetime-local" });
  const previewBtn = h("button", { type: "submit", class: "primary", text: "Preview (dry run)" });
  const runBtn = h("button", { type: "button", text: "Run now", disabled: true });
  const scheduleBtn = h("button", { type: "button", class: "secondary", text: "Schedule", disabled: true });
  const status = statusLine();
  const preview = h("div", { class: "preview", "aria-live": "polite" });
  const progress = h("div", { class: "batch-progress" });
  const history = h("div", { class: "batch-history" });

  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    csv.value = await f.text();
    status.ok(`${f.name} loaded: preview it before running.`);
    runBtn.disabled = scheduleBtn.disabled = true;
  });
  csv.addEventListener("input", () => (runBtn.disabled = scheduleBtn.disabled = true));
  template.addEventListener("change", async () => {
    if (!template.value) return;
    try {
      const text = await api(`batches/templates/${template.value}`, { text: true });
      csv.value = text;
      status.ok(`The ${template.value} template is in the CSV box: fill its rows.`);
    } catch (e) {
      status.error(e);
    }
    template.value = "";
  });

  const request = (extra) => {
    if (!csv.value.trim()) throw new Error("Choose a CSV file or paste its rows first.");
    const b = { csv: csv.value, concurrency: Number(concurrency.value) || 4, skip_invalid: skip.checked, ...extra };
    if (name.value.trim()) b.name = name.value.trim();
    return b;
  };

  const showPreview = (p) => {
    const parts = [
      h(
        "p",
        { class: p.allowed ? "ok-text" : "warn-text" },
        `${p.rows_valid} valid row(s), ${p.rows_invalid} with errors · cost ${p.total_credits} credits (US$${p.total_usd}) · you have ${p.available_credits} credits · plan ${p.plan}, at most ${p.row_cap} rows`,
      ),
    ];
    for (const problem of p.problems || []) parts.push(h("p", { class: "warn-text", text: problem.message || String(problem) }));
    if (p.errors.length) {
      parts.push(table("Rows with errors", ["Row", "Column", "Problem"], p.errors.map((e) => [String(e.row), e.column || "", e.message])));
      parts.push(h("p", { class: "hint", text: "Fix them in the CSV, or tick “Skip invalid rows” to run the valid ones." }));
    }
    parts.push(table("Rows and their cost", ["Row", "Operation", "Credits", "US$"], p.rows.map((r) => [String(r.row), r.operation, String(r.credits), r.usd])));
    preview.replaceChildren(...parts);
    runBtn.disabled = scheduleBtn.disabled = false;
  };

  const refreshHistory = async () => {
    const { batches } = await get("batches?limit=10");
    history.replaceChildren(
      batches.length
        ? table("Your batches", ["Name", "Status", "Rows", "Credits", "Created"], batches.map((b) => [b.name || b.id, b.status, `${b.done}/${b.total}`, String(b.credits_charged), when(b.created_at)]))
        : h("p", { class: "empty-note", text: "No batches yet." }),
    );
  };

  // One batch: progress, per-row status, pause/resume/cancel, the manifest once it ends. It is
  // polled while it runs; a scheduled or paused batch waits for the next action.
  const follow = (batch) => {
    const bar = h("progress", { max: 100, value: 0 });
    bar.id = nextId("batch");
    const line = h("p", { role: "status", "aria-live": "polite" });
    const rows = h("div", {});
    const links = h("p", {});
    const pause = h("button", { type: "button", class: "secondary", text: "Pause" });
    const resume = h("button", { type: "button", text: "Resume", hidden: true });
    const cancel = h("button", { type: "button", class: "danger", text: "Cancel batch" });
    const st = statusLine();
    const panel = h(
      "section",
      { class: "job", "aria-label": `Batch ${batch.id}` },
      h("h3", { text: batch.name || `Batch ${batch.id}` }),
      h("label", { for: bar.id, text: "Batch progress" }),
      bar,
      line,
      h("div", { class: "actions" }, pause, resume, cancel),
      st.el,
      rows,
      links,
    );
    progress.prepend(panel);

    const render = (b) => {
      bar.value = b.percent;
      const skipped = b.skipped || (b.invalid || []).length;
      panel.dataset.status = b.status;
      line.textContent = `Status: ${b.status} · ${b.done} of ${b.total} rows done (${b.percent}%) · ${b.succeeded} succeeded, ${b.failed} failed${b.canceled ? `, ${b.canceled} canceled` : ""}${skipped ? `, ${skipped} skipped` : ""} · ${b.credits_charged} credits charged${b.eta_seconds ? ` · about ${b.eta_seconds} s left` : ""}${b.status === "scheduled" ? ` · runs at ${when(b.next_run_at || b.schedule_at)}` : ""}`;
      const ended = ENDED.includes(b.status);
      pause.hidden = ended || !["running", "queued", "scheduled"].includes(b.status);
      resume.hidden = b.status !== "paused";
      cancel.hidden = ended || b.status === "canceling";
      if (ended) {
        links.replaceChildren(
          ...(b.manifest_csv_url ? [h("a", { class: "button", href: b.manifest_csv_url, download: "", text: "Download the manifest (CSV)" }), " ", h("a", { class: "button secondary", href: b.manifest_json_url, download: "", text: "Manifest (JSON)" })] : []),
        );
        document.dispatchEvent(new Event("credits-changed"));
      }
      return ended || ["scheduled", "paused"].includes(b.status);
    };

    const showRows = async () => {
      const items = await get(`${batch.links.items}?limit=500`);
      rows.replaceChildren(
        table(
          "Rows",
          ["Row", "Status", "Credits", "Outputs", "Error"],
          items.items.map((r) => [
            String(r.row),
            h("span", { class: `pill ${r.status}`, text: r.status }),
            String(r.credits_charged ?? r.credits ?? 0),
            r.outputs?.length ? String(r.outputs.length) : "",
            r.error?.message || "",
          ]),
        ),
      );
    };

    let polling = false;
    const poll = async () => {
      if (polling) return;
      polling = true;
      for (;;) {
        try {
          const b = await get(batch.links.self);
          await showRows();
          if (render(b)) break;
        } catch (e) {
          st.error(e);
          await sleep(1500);
        }
        await sleep(1500);
      }
      polling = false;
      refreshHistory().catch(() => {});
    };

    const act = (button, link, text) =>
      button.addEventListener("click", () =>
        busy(button, st, text, async () => {
          render(await post(link, {}));
          st.clear();
          poll();
        }),
      );
    act(pause, batch.links.pause, "Pausing…");
    act(resume, batch.links.resume, "Resuming…");
    act(cancel, batch.links.cancel, "Canceling…");
    render(batch);
    poll();
  };

  const submit = (button, extra, text) =>
    busy(button, status, text, async () => {
      const { data } = await api("batches", { method: "POST", body: request(extra) });
      status.ok(data.batch.status === "scheduled" ? `Scheduled for ${when(data.batch.next_run_at || data.batch.schedule_at)}.` : "The batch is running: progress below.");
      runBtn.disabled = scheduleBtn.disabled = true;
      follow(data.batch);
    });

  runBtn.addEventListener("click", () => submit(runBtn, {}, "Starting the batch…"));
  scheduleBtn.addEventListener("click", () => {
    if (!when_.value) return status.error("Choose the date and time to run it.");
    submit(scheduleBtn, { schedule_at: new Date(when_.value).toISOString() }, "Scheduling…");
  });

  const form = h(
    "form",
    { class: "panel-form", "aria-label": "Batch" },
    field("CSV file", file, "One row per operation; the header needs an operation column."),
    field("Rows (CSV)", csv),
    field("Template", template),
    h("div", { class: "row" }, field("Batch name", name), field("Rows at once", concurrency), field("Run at (for Schedule)", when_)),
    h("div", { class: "check" }, skip, h("label", { for: skip.id, text: "Skip invalid rows" })),
    h("div", { class: "actions" }, previewBtn, runBtn, scheduleBtn),
    status.el,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(previewBtn, status, "Checking every row…", async () => {
      const r = await post("batches", request({ dry_run: true }));
      showPreview(r.preview);
      if (r.preview.errors.length) status.warn(`${r.preview.errors.length} row(s) need fixing: see them below.`);
      else status.ok("Every row is valid.");
    });
  });

  root.append(h("h2", { text: "Batches" }), form, h("h3", { text: "Preview" }), preview, progress, h("h3", { text: "Recent batches" }), history);
  return {
    reload: true,
    async load() {
      try {
        if (template.options.length === 1) {
          const t = await get("batches/templates");
          for (const x of t.templates) template.append(h("option", { value: x.operation, text: x.operation }));
        }
        await refreshHistory();
      } catch (e) {
        status.error(e);
      }
    },
  };
}
