// Create: prompt, template by platform with its exact size, quality, provider/model, variations;
// the estimate and credits left before paying; a gallery of results.
import { get } from "../api.js";
import { busy, estimateLine, field, h, runStudio, select, statusLine } from "../ui.js";

export function createView(root) {
  const prompt = h("textarea", { rows: 3, required: true, placeholder: "A red bicycle against a white wall, morning light" });
  const platform = select([["", "Any platform"]]);
  const template = select([["", "No template (choose a size)"]]);
  const width = h("input", { type: "number", min: 64, max: 4096, value: 1024, inputmode: "numeric" });
  const height = h("input", { type: "number", min: 64, max: 4096, value: 1024, inputmode: "numeric" });
  const size = h("div", { class: "row" }, field("Width (px)", width), field("Height (px)", height));
  const exact = h("p", { class: "exact", "aria-live": "polite" });
  const quality = select([["draft", "Draft"], ["standard", "Standard"], ["premium", "Premium"]], "standard");
  const provider = select([["auto", "Auto (best for the quality)"]]);
  const model = select([["", "Auto"]]);
  const variations = h("input", { type: "number", min: 1, max: 10, value: 1, inputmode: "numeric" });
  const go = h("button", { type: "submit", class: "primary", text: "Generate" });
  const status = statusLine();
  const gallery = h("div", { class: "gallery", "aria-label": "Results" });
  let templates = [];
  // GET templates answers the original front end's shape: aspect_ratio is {ratio, width, height, label}
  const ratioOf = (t) => (typeof t.aspect_ratio === "object" && t.aspect_ratio ? t.aspect_ratio.ratio : t.aspect_ratio);
  let providers = [];

  const request = () => {
    const r = { prompt: prompt.value.trim(), quality: quality.value, num_variations: Number(variations.value) || 1 };
    if (template.value) r.template_id = template.value;
    else Object.assign(r, { width: Number(width.value), height: Number(height.value) });
    if (provider.value !== "auto") r.provider = provider.value;
    if (model.value) r.model = model.value;
    return r;
  };

  const cost = estimateLine("estimate-cost", () => {
    const { prompt: _p, ...body } = request();
    return { operation: "generate", ...body };
  });
  const estimate = cost.el;
  const refreshEstimate = cost.refresh;

  const showTemplate = () => {
    const t = templates.find((x) => x.id === template.value);
    size.hidden = Boolean(t);
    exact.textContent = t
      ? `Exact size: ${t.width} × ${t.height} px (${ratioOf(t)}) for ${t.name}`
      : `Exact size: ${width.value} × ${height.value} px`;
  };

  const fillTemplates = () => {
    const keep = template.value;
    template.replaceChildren(h("option", { value: "", text: "No template (choose a size)" }));
    for (const t of templates.filter((x) => !platform.value || x.platform === platform.value)) {
      template.append(h("option", { value: t.id, text: `${t.name}: ${t.width} × ${t.height} (${ratioOf(t)})`, selected: t.id === keep }));
    }
    showTemplate();
  };

  const fillModels = () => {
    model.replaceChildren(h("option", { value: "", text: "Auto" }));
    const p = providers.find((x) => x.name === provider.value);
    for (const m of p?.models || []) {
      if ((m.capabilities || []).includes("text-to-image")) model.append(h("option", { value: m.id, text: `${m.name} (${m.tier})` }));
    }
  };

  platform.addEventListener("change", () => (fillTemplates(), refreshEstimate()));
  template.addEventListener("change", () => (showTemplate(), refreshEstimate()));
  provider.addEventListener("change", () => (fillModels(), refreshEstimate()));
  for (const c of [quality, model, variations, width, height]) c.addEventListener("change", () => (showTemplate(), refreshEstimate()));

  const form = h(
    "form",
    { class: "panel-form", "aria-label": "Create images" },
    field("Prompt", prompt, "Describe the image; the template's style is added for you."),
    h("div", { class: "row" }, field("Platform", platform), field("Template", template)),
    size,
    exact,
    h("div", { class: "row" }, field("Quality", quality), field("Provider", provider), field("Model", model)),
    field("Variations", variations, "1 to 10, made at once; a failed one is not charged."),
    estimate,
    go,
    status.el,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!prompt.value.trim()) {
      status.error("Write a prompt first.");
      prompt.focus();
      return;
    }
    gallery.setAttribute("aria-busy", "true");
    busy(go, status, "Generating… this takes a few seconds per image.", () =>
      runStudio("create", request(), { gallery, status, title: "Variation" }),
    ).finally(() => gallery.removeAttribute("aria-busy"));
  });

  root.append(
    h("h2", { text: "Create" }),
    form,
    h("h3", { text: "Gallery" }),
    h("p", { class: "empty-note", text: "Your images appear here. Nothing yet." }),
    gallery,
  );
  const emptyNote = root.querySelector(".empty-note");
  new MutationObserver(() => (emptyNote.hidden = gallery.children.length > 0)).observe(gallery, { childList: true });

  return {
    async load() {
      status.loading("Loading templates and providers…");
      try {
        const [t, p] = await Promise.all([get("templates"), get("providers?view=full")]);
        templates = t.templates;
        providers = p.providers.filter((x) => (x.capabilities || []).includes("text-to-image"));
        for (const name of [...new Set(templates.map((x) => x.platform))].sort()) platform.append(h("option", { value: name, text: name }));
        for (const x of providers) provider.append(h("option", { value: x.name, text: x.display_name }));
        fillTemplates();
        status.clear();
        refreshEstimate();
      } catch (e) {
        status.error(e);
      }
    },
  };
}
