// Compression, Format Converter and Face Swap: a tab for each only where this API serves its route,
// with the form built from the route's request schema in the API's own OpenAPI document (so the
// page follows the API's fields instead of guessing them).
import { busy, bytes, field, h, imageInput, nextId, runStudio, select, statusLine } from "../ui.js";

const STUDIOS = [
  ["compress", "Compress", "compress"],
  ["convert", "Convert", "convert-format"],
  ["face-swap", "Face swap", "face-swap/process"],
];
// Inline images, other references to the same input, and delivery options are not form fields.
const SKIP = /(^image$|_image$|^image_base64$|upload_id$|^response_format$|^webhook_url$)/;

function resolve(spec, schema) {
  let s = schema || {};
  for (let i = 0; s.$ref && i < 10; i++) s = spec.components.schemas[s.$ref.split("/").pop()] || {};
  if (s.anyOf) {
    const real = s.anyOf.map((x) => resolve(spec, x)).find((x) => x.type !== "null");
    return { ...real, ...s, anyOf: undefined, type: real?.type, enum: real?.enum, minimum: real?.minimum, maximum: real?.maximum };
  }
  return s;
}

function control(name, prop, required) {
  const label = prop.title || name.replace(/_/g, " ");
  if (prop.enum) {
    const opts = prop.enum.map((v) => [String(v), String(v)]);
    const s = select(required ? opts : [["", `Default${prop.default !== undefined ? ` (${prop.default})` : ""}`], ...opts]);
    return [field(label, s, prop.description), () => (s.value === "" ? undefined : typeof prop.enum[0] === "number" ? Number(s.value) : s.value)];
  }
  if (prop.type === "boolean") {
    const c = h("input", { type: "checkbox", id: nextId(), checked: Boolean(prop.default) });
    return [h("div", { class: "check" }, c, h("label", { for: c.id, text: label })), () => c.checked];
  }
  if (prop.type === "integer" || prop.type === "number") {
    const i = h("input", { type: "number", inputmode: "decimal", min: prop.minimum, max: prop.maximum, step: prop.type === "integer" ? 1 : "any", placeholder: prop.default !== undefined ? String(prop.default) : "" });
    return [field(label, i, prop.description), () => (i.value === "" ? undefined : Number(i.value))];
  }
  if (prop.type === "string") {
    const i = h("input", { type: "text", placeholder: prop.default !== undefined ? String(prop.default) : "" });
    return [field(label, i, prop.description), () => i.value.trim() || undefined];
  }
  return null;
}

function studioFromSchema(spec, title, path, schema) {
  return (root) => {
    const body = resolve(spec, schema);
    const required = new Set(body.required || []);
    const images = [];
    const values = [];
    const controls = [];
    for (const [name, raw] of Object.entries(body.properties || {})) {
      const prop = resolve(spec, raw);
      if (name.endsWith("asset_id")) {
        const input = imageInput(prop.title && name !== "asset_id" ? prop.title : "Image", { kind: images.length ? name : "image" });
        images.push([name, input]);
        controls.push(input.el);
      } else if (!SKIP.test(name)) {
        const made = control(name, prop, required.has(name));
        if (made) {
          controls.push(made[0]);
          values.push([name, made[1]]);
        }
      }
    }
    const go = h("button", { type: "submit", class: "primary", text: title });
    const status = statusLine();
    const gallery = h("div", { class: "gallery" });
    const form = h("form", { class: "panel-form", "aria-label": title }, ...controls, go, status.el);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      busy(go, status, `${title}…`, async () => {
        const req = {};
        for (const [name, input] of images) {
          const o = input.get();
          if (!o && required.has(name)) throw new Error(`Choose the ${name === "asset_id" ? "image" : name.replace(/_asset_id$/, "").replace(/_/g, " ")} first.`);
          if (o) req[name] = o.asset_id;
        }
        if (!images.some(([name]) => req[name])) throw new Error("Choose an image first: drop one, or use one from Create or the Library.");
        for (const [name, read] of values) {
          const v = read();
          if (v !== undefined) req[name] = v;
        }
        const before = images[0][1].get();
        const data = await runStudio(path, req, { gallery, status, title, before });
        const out = data?.outputs?.[0];
        const after = out?.bytes ?? out?.size_bytes;
        if (before?.size_bytes && after) {
          const saved = Math.round((1 - after / before.size_bytes) * 100);
          status.ok(`${status.el.textContent} ${bytes(before.size_bytes)} → ${bytes(after)}: ${saved >= 0 ? `${saved}% smaller` : `${-saved}% larger`}.`);
        }
      });
    });
    root.append(h("h2", { text: title }), form, h("h3", { text: "Results" }), gallery);
    return {};
  };
}

// The tabs of the new studios this API serves, from its OpenAPI document.
export function newStudioTabs(spec) {
  const tabs = [];
  for (const [id, title, route] of STUDIOS) {
    const op = spec?.paths?.[`/api/image-studio/${route}`]?.post;
    const schema = op?.requestBody?.content?.["application/json"]?.schema;
    if (schema) tabs.push([id, title, studioFromSchema(spec, title, route, schema)]);
  }
  return tabs;
}
