// Edit (with a mask drawn on the image), Upscale (before/after) and Control.
import { busy, estimateLine, field, h, imageInput, inputRef, nextId, runStudio, select, statusLine } from "../ui.js";

const EDIT_OPS = [
  ["remove_background", "Remove background"],
  ["inpaint", "Inpaint / erase (draw a mask)"],
  ["outpaint", "Outpaint (extend the canvas)"],
  ["search_replace", "Search and replace"],
  ["search_recolor", "Search and recolour"],
  ["general_edit", "General edit (describe the change)"],
  ["relight", "Relight (runs as a job)"],
];

function studio(root, title, form, gallery) {
  root.append(h("h2", { text: title }), form, h("h3", { text: "Results" }), gallery);
}

// A mask painted over the image: white where to change, exported at the image's own size.
function maskPainter() {
  const canvas = h("canvas", { class: "mask", "aria-label": "Mask: paint over the area to change" });
  const img = h("img", { alt: "The image to edit" });
  const brush = h("input", { type: "range", min: 4, max: 200, value: 40 });
  const clear = h("button", { type: "button", class: "secondary", text: "Clear mask" });
  const stage = h("div", { class: "mask-stage" }, img, canvas);
  let drawn = false;
  let down = false;
  const ctx = () => canvas.getContext("2d");
  const point = (e) => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) / r.width) * canvas.width, ((e.clientY - r.top) / r.height) * canvas.height];
  };
  const paint = (e) => {
    if (!down) return;
    const [x, y] = point(e);
    const c = ctx();
    c.fillStyle = "#fff";
    c.beginPath();
    c.arc(x, y, (Number(brush.value) * canvas.width) / 1000, 0, Math.PI * 2);
    c.fill();
    drawn = true;
  };
  canvas.addEventListener("pointerdown", (e) => {
    down = true;
    canvas.setPointerCapture(e.pointerId);
    paint(e);
  });
  canvas.addEventListener("pointermove", paint);
  canvas.addEventListener("pointerup", () => (down = false));
  clear.addEventListener("click", () => {
    ctx().clearRect(0, 0, canvas.width, canvas.height);
    drawn = false;
  });
  return {
    el: h("div", { class: "mask-editor" }, stage, h("div", { class: "row" }, field("Brush size", brush), clear)),
    setImage(o) {
      img.src = o ? o.url : "";
      canvas.width = o?.width || 1024;
      canvas.height = o?.height || 1024;
      drawn = false;
    },
    dataUrl() {
      if (!drawn) return null;
      const out = h("canvas", { width: canvas.width, height: canvas.height });
      const c = out.getContext("2d");
      c.fillStyle = "#000";
      c.fillRect(0, 0, out.width, out.height);
      c.drawImage(canvas, 0, 0);
      return out.toDataURL("image/png");
    },
  };
}

export function editView(root) {
  const input = imageInput("Image to edit");
  const op = select(EDIT_OPS, "inpaint");
  const prompt = h("textarea", { rows: 2 });
  const search = h("input", { type: "text" });
  const mask = maskPainter();
  const sides = ["left", "right", "up", "down"].map((s) => [s, h("input", { type: "number", min: 0, max: 2048, value: s === "right" ? 256 : 0, inputmode: "numeric" })]);
  const go = h("button", { type: "submit", class: "primary", text: "Apply edit" });
  const status = statusLine();
  const gallery = h("div", { class: "gallery" });
  const promptField = field("Prompt", prompt, "What should appear (inpaint, outpaint, replace, recolour, general edit).");
  const searchField = field("Find", search, "What to find in the image (search and replace or recolour).");
  const sidesField = h("div", { class: "row" }, ...sides.map(([s, c]) => field(`Add ${s} (px)`, c)));
  const maskField = h("fieldset", {}, h("legend", { text: "Mask" }), h("p", { class: "hint", text: "Paint over what to change with a pointer or finger." }), mask.el);
  const sync = () => {
    const v = op.value;
    promptField.hidden = v === "remove_background";
    searchField.hidden = !v.startsWith("search_");
    sidesField.hidden = v !== "outpaint";
    maskField.hidden = v !== "inpaint";
  };
  const cost = estimateLine("estimate-cost", () => {
    const o = input.get();
    return o && { operation: "edit", edit_operation: op.value, width: o.width, height: o.height };
  });
  op.addEventListener("change", () => (sync(), cost.refresh()));
  input.onChange(() => (mask.setImage(input.get()), cost.refresh()));
  sync();
  cost.refresh();
  const form = h("form", { class: "panel-form", "aria-label": "Edit" }, input.el, field("Operation", op), maskField, promptField, searchField, sidesField, cost.el, go, status.el);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, status, "Editing…", async () => {
      const before = input.get();
      const body = { operation: op.value, ...inputRef(before) };
      if (!promptField.hidden && prompt.value.trim()) body.prompt = prompt.value.trim();
      if (op.value === "search_replace") body.search_prompt = search.value.trim();
      if (op.value === "search_recolor") body.select_prompt = search.value.trim();
      if (op.value === "outpaint") for (const [s, c] of sides) body[s] = Number(c.value) || 0;
      if (op.value === "inpaint") {
        const m = mask.dataUrl();
        if (!m) throw new Error("Paint the mask over the area to change first.");
        body.mask = m;
      }
      await runStudio("edit/process", body, { gallery, status, title: "Edited", before });
    });
  });
  studio(root, "Edit", form, gallery);
  return {};
}

export function upscaleView(root) {
  const input = imageInput("Image to upscale");
  const mode = select([["auto", "Auto"], ["fast", "Fast (4×)"], ["conservative", "Conservative"], ["creative", "Creative (runs as a job)"]], "fast");
  const preset = select([["", "None"], ["web", "Web"], ["social", "Social"], ["print", "Print"]]);
  const target = h("input", { type: "number", min: 64, max: 8192, placeholder: "e.g. 2048", inputmode: "numeric" });
  const go = h("button", { type: "submit", class: "primary", text: "Upscale" });
  const status = statusLine();
  const gallery = h("div", { class: "gallery" });
  const cost = estimateLine("estimate-cost", () => {
    const o = input.get();
    if (!o) return null;
    const body = { operation: "upscale", mode: mode.value, width: o.width, height: o.height };
    if (preset.value) body.preset = preset.value;
    if (target.value) body.target_long_side = Number(target.value);
    return body;
  });
  for (const c of [mode, preset, target]) c.addEventListener("change", cost.refresh);
  input.onChange(cost.refresh);
  cost.refresh();
  const form = h(
    "form",
    { class: "panel-form", "aria-label": "Upscale" },
    input.el,
    h("div", { class: "row" }, field("Mode", mode), field("Preset", preset), field("Target long side (px)", target)),
    cost.el,
    go,
    status.el,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, status, "Upscaling…", async () => {
      const before = input.get();
      const body = { mode: mode.value, ...inputRef(before) };
      if (preset.value) body.preset = preset.value;
      if (target.value) body.target_long_side = Number(target.value);
      await runStudio("upscale", body, { gallery, status, title: "Upscaled", before });
    });
  });
  studio(root, "Upscale", form, gallery);
  return {};
}

export function controlView(root) {
  const input = imageInput("Control image");
  const style = imageInput("Style image", { kind: "style" });
  const op = select([["sketch", "Sketch to image"], ["structure", "Keep the structure"], ["style", "Style from the image"], ["style_transfer", "Style transfer"]], "sketch");
  const prompt = h("textarea", { rows: 2 });
  const strength = h("input", { type: "range", min: 0, max: 100, value: 70 });
  const go = h("button", { type: "submit", class: "primary", text: "Generate" });
  const status = statusLine();
  const gallery = h("div", { class: "gallery" });
  const styleField = h("fieldset", { hidden: true }, h("legend", { text: "Style" }), style.el);
  const strengthId = nextId();
  strength.id = strengthId;
  const cost = estimateLine("estimate-cost", () => ({ operation: "control", control_operation: op.value }));
  op.addEventListener("change", () => ((styleField.hidden = op.value !== "style_transfer"), cost.refresh()));
  cost.refresh();
  const form = h(
    "form",
    { class: "panel-form", "aria-label": "Control" },
    input.el,
    field("Operation", op),
    styleField,
    field("Prompt", prompt),
    field("Control strength", strength, "How closely to follow the control image."),
    cost.el,
    go,
    status.el,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, status, "Generating…", async () => {
      const before = input.get();
      const body = { operation: op.value, ...inputRef(before) };
      if (prompt.value.trim()) body.prompt = prompt.value.trim();
      if (op.value === "style_transfer") Object.assign(body, inputRef(style.get(), "style_image_"));
      else if (op.value === "style") body.fidelity = Number(strength.value) / 100;
      else body.control_strength = Number(strength.value) / 100;
      await runStudio("control", body, { gallery, status, title: "Controlled", before });
    });
  });
  studio(root, "Control", form, gallery);
  return {};
}
