// Small DOM helpers and the components every studio shares: status lines, image inputs with
// drag-and-drop upload, result cards, the job tracker and the before/after comparison.
import { api, ApiError, get, jobOutputs, normalizeOutput, post, sleep, uploadFile } from "./api.js";
import { credits } from "./credits-state.js";

let uid = 0;
export const nextId = (p = "f") => `${p}-${++uid}`;

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// A labelled control: label + input/select/textarea + optional hint, wired for screen readers.
export function field(label, control, hint) {
  control.id ||= nextId();
  const hintEl = hint ? h("small", { id: `${control.id}-hint`, class: "hint", text: hint }) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id, text: label }), control, hintEl);
}

export function select(options, value) {
  const s = h("select");
  for (const o of options) {
    const [v, t] = Array.isArray(o) ? o : [o, o];
    s.append(h("option", { value: v, text: t, selected: v === value }));
  }
  return s;
}

export function bytes(n) {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(2)} MB`;
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");

// One status line per panel: loading, success, empty, or the API's error message (role=alert).
export function statusLine() {
  const el = h("div", { class: "status", role: "status", "aria-live": "polite" });
  const set = (kind, text) => {
    el.className = `status ${kind}`;
    el.setAttribute("role", kind === "error" ? "alert" : "status");
    el.textContent = text;
  };
  return {
    el,
    loading: (t) => set("loading", t),
    ok: (t) => set("ok", t),
    warn: (t) => set("warn", t),
    empty: (t) => set("empty", t),
    error: (e) => set("error", e instanceof ApiError || e instanceof Error ? e.message : String(e)),
    clear: () => set("", ""),
  };
}

// Run fn with a button busy and errors shown on the status line.
export async function busy(button, status, loadingText, fn) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  status.loading(loadingText);
  try {
    return await fn();
  } catch (e) {
    status.error(e);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// -- the image chosen with "Use as input", shared by every studio
const selection = new EventTarget();
let selected = null;
export function selectInput(output) {
  selected = normalizeOutput(output);
  selection.dispatchEvent(new Event("change"));
  announce(`Image selected as the input of the other studios (${selected.width}×${selected.height}).`);
}

export function announce(text) {
  const el = document.getElementById("announcer");
  if (el) {
    el.textContent = "";
    setTimeout(() => (el.textContent = text), 30);
  }
}

export function media(o, alt) {
  const mime = o.mime_type || "";
  if (mime.startsWith("video/")) return h("video", { src: o.url, controls: true, loop: true, muted: true, "aria-label": alt });
  if (mime.startsWith("audio/")) return h("audio", { src: o.url, controls: true, "aria-label": alt });
  if (mime.startsWith("image/")) return h("img", { src: o.url, alt, loading: "lazy" });
  return h("a", { href: o.url, text: `Download ${alt} (${mime || "file"})` });
}

export function describe(o) {
  const parts = [];
  if (o.width && o.height) parts.push(`${o.width} × ${o.height}`);
  if (o.mime_type) parts.push(o.mime_type.split("/")[1].toUpperCase());
  if (o.size_bytes) parts.push(bytes(o.size_bytes));
  return parts.join(" · ");
}

// A result: the image, its size, download, save to a collection and "use as input".
export function resultCard(output, { title = "Result", extra = [] } = {}) {
  const o = normalizeOutput(output);
  const status = statusLine();
  const collection = select([["", "Choose a collection…"]]);
  const newName = h("input", { type: "text", placeholder: "or a new collection", autocomplete: "off" });
  const save = h("button", { type: "button", text: "Save" });
  save.addEventListener("click", () =>
    busy(save, status, "Saving…", async () => {
      let id = collection.value;
      let name = collection.selectedOptions[0]?.textContent;
      if (newName.value.trim()) {
        const created = await post("collections", { name: newName.value.trim() });
        id = created.id;
        name = created.name;
      }
      if (!id) throw new Error("Choose a collection or name a new one.");
      await post(`collections/${id}/assets`, { asset_ids: [o.asset_id] });
      status.ok(`Saved to ${name}.`);
    }),
  );
  collection.addEventListener("focus", () => fillCollections(collection), { once: true });
  const details = h(
    "details",
    { class: "save" },
    h("summary", { text: "Save to collection" }),
    field("Collection", collection),
    field("New collection", newName),
    save,
  );
  details.addEventListener("toggle", () => details.open && fillCollections(collection), { once: true });
  return card(o, title, [h("button", { type: "button", text: "Use as input", onclick: () => selectInput(o) }), ...extra], [details, status.el]);
}

// A file as a card: the media, its name, size and type, a download link, then actions and the rest.
export function card(o, title, actions = [], rest = [], subtitle = null) {
  return h(
    "figure",
    { class: "card" },
    h("div", { class: "frame" }, media(o, title)),
    h(
      "figcaption",
      {},
      h("strong", { text: title }),
      subtitle ? h("span", { text: subtitle }) : "",
      h("span", { class: "meta", text: describe(o) }),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button", href: o.url, download: "", target: "_blank", rel: "noopener", text: "Download" }),
        ...actions,
      ),
      ...rest,
    ),
  );
}

async function fillCollections(sel) {
  try {
    const { collections } = await get("collections");
    for (const c of collections) sel.append(h("option", { value: c.id, text: c.name }));
  } catch {
    /* the save button reports errors */
  }
}

// An image input: drag and drop or choose a file (presigned upload with a progress bar), or the
// image chosen with "Use as input". get() answers {asset_id, url, width, height}.
export function imageInput(label, { accept = "image/png,image/jpeg,image/webp,image/gif", kind = "image" } = {}) {
  let current = null;
  const changed = new EventTarget();
  const file = h("input", { type: "file", accept });
  const bar = h("progress", { max: 100, value: 0, hidden: true });
  bar.id = nextId("progress");
  const barLabel = h("label", { for: bar.id, class: "hint", hidden: true, text: "Upload progress" });
  const status = statusLine();
  const preview = h("div", { class: "input-preview" });
  const useSelected = h("button", { type: "button", class: "secondary", text: "Use the selected image", hidden: true });
  const drop = h(
    "div",
    { class: "drop" },
    h("p", { text: `Drop ${kind === "image" ? "an image" : "a file"} here, or` }),
    field(label, file),
    barLabel,
    bar,
    useSelected,
  );
  const show = (o) => {
    current = o;
    preview.replaceChildren();
    if (o) {
      preview.append(
        h("div", { class: "frame small" }, media(o, `${label} preview`)),
        h("span", { class: "meta", text: describe(o) }),
      );
    }
    changed.dispatchEvent(new Event("change"));
  };
  const upload = async (f) => {
    if (!f) return;
    bar.hidden = barLabel.hidden = false;
    bar.value = 0;
    status.loading(`Uploading ${f.name}…`);
    try {
      const { asset, upload } = await uploadFile(f, (p) => (bar.value = Math.round(p * 100)));
      const o = { ...normalizeOutput(asset), upload_id: upload.id, file: f };
      show(o);
      status.ok(`Uploaded ${f.name} (${describe(o)}).`);
    } catch (e) {
      status.error(e);
    }
  };
  file.addEventListener("change", () => upload(file.files[0]));
  for (const ev of ["dragenter", "dragover"]) {
    drop.addEventListener(ev, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });
  const offer = () => {
    useSelected.hidden = !selected;
    if (selected && !current) show(selected);
  };
  useSelected.addEventListener("click", () => show(selected));
  selection.addEventListener("change", () => {
    useSelected.hidden = !selected;
    if (kind === "image") show(selected);
  });
  offer();
  return {
    el: h("div", { class: "image-input" }, drop, status.el, preview),
    get: () => current,
    set: show,
    onChange: (f) => changed.addEventListener("change", f),
  };
}

// The reference of an input in a studio request: asset_id (an upload becomes an asset when it lands).
export function inputRef(o, prefix = "") {
  if (!o) throw new Error("Choose an image first: drop one, or use one from Create or the Library.");
  return { [`${prefix}asset_id`]: o.asset_id };
}

// Follow a job: status, percent and polls live; cancel; the result playable when it ends.
export function trackJob(job, container, { onEnd = () => {} } = {}) {
  const statusText = h("p", { class: "job-status", role: "status", "aria-live": "polite" });
  const bar = h("progress", { max: 100, value: job.progress || 0 });
  bar.id = nextId("job");
  const cancel = h("button", { type: "button", class: "danger", text: "Cancel job" });
  const status = statusLine();
  const result = h("div", { class: "gallery" });
  const panel = h(
    "section",
    { class: "job", "aria-label": `Job ${job.id}` },
    h("h3", { text: `${job.operation} job` }),
    h("label", { for: bar.id, text: "Progress" }),
    bar,
    statusText,
    cancel,
    status.el,
    result,
  );
  container.prepend(panel);
  let polls = 0;
  let stopped = false;
  const render = (j) => {
    bar.value = j.progress || 0;
    const credits =
      j.status === "canceled" || j.status === "failed" || j.status === "expired"
        ? ` · ${j.credits_reserved} credits returned`
        : j.status === "succeeded"
          ? ` · ${j.actual_credits ?? j.credits_captured} credits charged`
          : ` · ${j.credits_reserved} credits reserved`;
    statusText.textContent = `Status: ${j.status} · ${j.progress || 0}% · ${polls} polls${credits}`;
    panel.dataset.status = j.status;
  };
  const end = async (j) => {
    stopped = true;
    cancel.hidden = true;
    if (j.status === "succeeded") {
      const outs = await jobOutputs(j);
      result.replaceChildren(...outs.map((o, i) => resultCard(o, { title: `${j.operation} result ${i + 1}` })));
      status.ok(`Done: ${outs.length} output(s).`);
    } else if (j.status === "canceled") {
      status.ok(`Canceled: ${j.credits_reserved} reserved credits went back to your balance.`);
    } else {
      status.error(j.error?.message || `The job ${j.status}.`);
    }
    document.dispatchEvent(new Event("credits-changed"));
    onEnd(j);
  };
  cancel.addEventListener("click", () =>
    busy(cancel, status, "Canceling…", async () => {
      const { data } = await api(job.links.cancel_url, { method: "DELETE" });
      render(data);
      if (["canceled", "failed", "succeeded", "expired"].includes(data.status)) await end(data);
    }),
  );
  render(job);
  (async () => {
    while (!stopped) {
      await sleep(1000);
      if (stopped) break;
      try {
        const j = await get(job.links.status_url);
        polls++;
        render(j);
        if (["succeeded", "failed", "canceled", "expired"].includes(j.status)) await end(j);
      } catch (e) {
        status.error(e);
        if (e.status === 404 || e.status === 401) break;
      }
    }
  })();
  return panel;
}

// Before/after: the after image under the before one, split by a labelled slider.
export function compare(before, after, label = "Before / after") {
  const b = normalizeOutput(before);
  const a = normalizeOutput(after);
  const top = h("div", { class: "compare-top" }, h("img", { src: b.url, alt: `Before: ${describe(b)}` }));
  const range = h("input", { type: "range", min: 0, max: 100, value: 50 });
  range.addEventListener("input", () => top.style.setProperty("--split", `${range.value}%`));
  return h(
    "figure",
    { class: "compare" },
    h(
      "div",
      { class: "compare-stage" },
      h("img", { src: a.url, alt: `After: ${describe(a)}` }),
      top,
      h("span", { class: "tag before", "aria-hidden": "true", text: "Before" }),
      h("span", { class: "tag after", "aria-hidden": "true", text: "After" }),
    ),
    field(label, range, `Before ${describe(b)} · after ${describe(a)}`),
  );
}

// A studio call that answers 200 (outputs now) or 202 (a job to follow).
export async function runStudio(path, body, { gallery, status, title, before }) {
  const { status: code, data } = await api(path, { method: "POST", body });
  document.dispatchEvent(new Event("credits-changed"));
  if (code === 202) {
    status.ok("Running as a job: follow it below.");
    trackJob(
      { ...data, id: data.id ?? data.job_id, progress: data.progress ?? 0, credits_reserved: data.credits_reserved ?? data.details?.credits_reserved ?? data.credits_estimated },
      gallery,
    );
    return data;
  }
  const outs = (data.outputs || []).map(normalizeOutput);
  const cards = outs.map((o, i) => resultCard(o, { title: `${title} ${i + 1}` }));
  if (before && outs[0]) cards.unshift(compare(before, outs[0]));
  gallery.replaceChildren(...cards);
  const failed = (data.failures || []).map((f) => f.message).join(" ");
  status.ok(
    `Done: ${outs.length} result(s), ${data.credits_charged} credits charged.${failed ? ` Not charged: ${failed}` : ""}`,
  );
  return data;
}

// The cost before paying and the credits left: body() is the estimate-cost request (null: not yet).
export function estimateLine(
  path,
  body,
  describeEstimate = (e) => `with ${e.model_name}`,
  emptyText = "Choose the image to see the cost.",
) {
  const el = h("p", { class: "estimate", "aria-live": "polite" });
  let seq = 0;
  const refresh = async () => {
    const mine = ++seq;
    let req;
    try {
      req = body();
    } catch {
      req = null;
    }
    if (!req) {
      el.className = "estimate";
      el.textContent = emptyText;
      return;
    }
    el.className = "estimate loading";
    el.textContent = "Estimating the cost…";
    try {
      const [e, c] = await Promise.all([post(path, req), credits.load()]);
      if (mine !== seq) return;
      el.className = e.credits > c.available ? "estimate error" : "estimate";
      el.textContent = `Cost: ${e.credits} credits (US$${e.usd}) ${describeEstimate(e)} · you have ${c.available} credits left${e.credits > c.available ? ": not enough for this run." : ""}`;
    } catch (err) {
      if (mine !== seq) return;
      el.className = "estimate error";
      el.textContent = `No estimate: ${err.message}`;
    }
  };
  document.addEventListener("credits-changed", () => el.isConnected && refresh());
  return { el, refresh };
}
