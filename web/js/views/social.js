// Social export: one photo to every platform's formats, shown at their true aspect ratio with the
// safe zone over each; the focal point is set by clicking the photo; download one or the zip.
import { get, post } from "../api.js";
import { busy, bytes, field, h, imageInput, nextId, select, statusLine } from "../ui.js";

export function socialView(root) {
  const input = imageInput("Photo to export");
  const platforms = h("fieldset", { class: "checks" }, h("legend", { text: "Platforms" }));
  const all = h("input", { type: "checkbox", checked: true, id: nextId() });
  const allFormats = h("input", { type: "checkbox", checked: true, id: nextId() });
  const crop = select([["smart", "Smart (keep the subject)"], ["center", "Center"], ["fit", "Fit (no crop)"]], "smart");
  const fill = select([["#ffffff", "White"], ["#000000", "Black"], ["blur", "Blurred photo"]], "#ffffff");
  const fillField = field("Fit background", fill);
  fillField.hidden = true;
  const format = select([["jpg", "JPEG"], ["png", "PNG"], ["webp", "WebP"]], "jpg");
  const fx = h("input", { type: "number", min: 0, max: 100, step: 1, value: 50, inputmode: "numeric" });
  const fy = h("input", { type: "number", min: 0, max: 100, step: 1, value: 50, inputmode: "numeric" });
  const useFocal = h("input", { type: "checkbox", id: nextId() });
  const focalStage = h("div", { class: "focal-stage", hidden: true });
  const marker = h("span", { class: "focal-marker", "aria-hidden": "true" });
  const subjectBox = h("span", { class: "subject-box", hidden: true, "aria-hidden": "true" });
  const coreBox = h("span", { class: "subject-core", hidden: true, "aria-hidden": "true" });
  const followed = h("p", { class: "hint followed", hidden: true });
  const safe = h("input", { type: "checkbox", checked: true, id: nextId() });
  const go = h("button", { type: "submit", class: "primary", text: "Export" });
  const status = statusLine();
  const bundle = h("p", { class: "bundle" });
  const grid = h("div", { class: "formats", "aria-label": "Exported formats" });

  crop.addEventListener("change", () => (fillField.hidden = crop.value !== "fit"));
  all.addEventListener("change", () => platforms.querySelectorAll("input[name=platform]").forEach((c) => (c.checked = all.checked)));
  platforms.addEventListener("change", () => {
    const boxes = [...platforms.querySelectorAll("input[name=platform]")];
    all.checked = boxes.every((c) => c.checked);
  });
  safe.addEventListener("change", () => grid.classList.toggle("hide-safe", !safe.checked));

  const placeMarker = () => {
    marker.style.left = `${fx.value}%`;
    marker.style.top = `${fy.value}%`;
    marker.hidden = !useFocal.checked; // a point that is not used is not shown
  };
  useFocal.addEventListener("change", placeMarker);
  for (const c of [fx, fy]) c.addEventListener("input", () => ((useFocal.checked = true), placeMarker()));

  // What the last export's crops followed, drawn over the photo: the subject (dashed) and its core.
  const FOLLOWED = {
    faces: (s) => `Smart crop followed ${s.faces} face${s.faces === 1 ? "" : "s"}: the dashed box is the person, the solid one is kept first.`,
    subject: () => "Smart crop followed the dashed box (the solid one is kept first). Wrong? Click the subject and export again.",
    "no subject": () => "Smart crop found no clear subject and centred the crops. Click the subject and export again.",
    "focal point": () => "The crops followed your focal point.",
  };
  const place = (el, rect, s) => {
    el.hidden = !rect;
    if (!rect) return;
    el.style.left = `${(rect.x / s.source_width) * 100}%`;
    el.style.top = `${(rect.y / s.source_height) * 100}%`;
    el.style.width = `${(rect.width / s.source_width) * 100}%`;
    el.style.height = `${(rect.height / s.source_height) * 100}%`;
  };
  const showFollowed = (s) => {
    const say = s && FOLLOWED[s.followed];
    place(subjectBox, say ? s.box : null, s);
    place(coreBox, say ? s.core : null, s);
    followed.hidden = !say;
    followed.textContent = say ? say(s) : "";
    return Boolean(say);
  };
  input.onChange(() => {
    const o = input.get();
    focalStage.replaceChildren();
    focalStage.hidden = !o;
    showFollowed(null);
    if (!o) return;
    const img = h("img", { src: o.url, alt: "Click where the subject is to set the focal point" });
    img.addEventListener("click", (e) => {
      const r = img.getBoundingClientRect();
      fx.value = Math.round(((e.clientX - r.left) / r.width) * 100);
      fy.value = Math.round(((e.clientY - r.top) / r.height) * 100);
      useFocal.checked = true;
      placeMarker();
    });
    focalStage.append(img, subjectBox, coreBox, marker);
    placeMarker();
  });

  const cell = (o) => {
    const id = nextId("fmt");
    const z = o.safe_zone;
    const overlay = h("div", { class: "safe-zone", "aria-hidden": "true" });
    overlay.style.left = `${(z.x / o.width) * 100}%`;
    overlay.style.top = `${(z.y / o.height) * 100}%`;
    overlay.style.width = `${(z.width / o.width) * 100}%`;
    overlay.style.height = `${(z.height / o.height) * 100}%`;
    const frame = h("div", { class: "aspect" }, h("img", { src: o.url, alt: `${o.platform} ${o.format}, ${o.width} by ${o.height}` }), overlay);
    frame.style.aspectRatio = `${o.width} / ${o.height}`;
    return h(
      "figure",
      { class: "format", "aria-labelledby": id },
      frame,
      h(
        "figcaption",
        { id },
        h("strong", { text: `${o.platform}: ${o.format}` }),
        h("span", { class: "meta", text: `${o.width} × ${o.height} · ${bytes(o.bytes)}` }),
        h("span", { class: "meta", text: o.actions.join("; ") }),
        h("a", { class: "button", href: o.url, download: "", target: "_blank", rel: "noopener", text: "Download", "aria-label": `Download ${o.platform} ${o.format}` }),
      ),
    );
  };

  const form = h(
    "form",
    { class: "panel-form", "aria-label": "Social export" },
    input.el,
    h("div", { class: "check" }, all, h("label", { for: all.id, text: "All platforms" })),
    platforms,
    h("div", { class: "check" }, allFormats, h("label", { for: allFormats.id, text: "Every format of each platform" })),
    h("div", { class: "row" }, field("Crop mode", crop), fillField, field("File format", format)),
    h(
      "fieldset",
      { class: "focal" },
      h("legend", { text: "Focal point" }),
      h("p", { class: "hint", text: "Click the photo where the subject is, or type the position." }),
      focalStage,
      followed,
      h("div", { class: "check" }, useFocal, h("label", { for: useFocal.id, text: "Use this focal point" })),
      h("div", { class: "row" }, field("Focal x (%)", fx), field("Focal y (%)", fy)),
    ),
    h("div", { class: "check" }, safe, h("label", { for: safe.id, text: "Show safe zones" })),
    go,
    status.el,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const o = input.get();
    if (!o) return status.error("Drop a photo first (or use one from Create or the Library).");
    const chosen = [...platforms.querySelectorAll("input[name=platform]:checked")].map((c) => c.value);
    if (!chosen.length) return status.error("Choose at least one platform.");
    const body = {
      asset_id: o.asset_id,
      platforms: chosen,
      all_formats: allFormats.checked,
      crop_mode: crop.value,
      output_format: format.value,
      bundle: true,
    };
    if (crop.value === "fit") body.fill = fill.value;
    if (useFocal.checked) body.focal_point = { x: Number(fx.value) / 100, y: Number(fy.value) / 100 };
    grid.setAttribute("aria-busy", "true");
    busy(go, status, `Exporting to ${chosen.length} platform(s)…`, async () => {
      const r = await post("social/optimize", body);
      grid.replaceChildren(...r.outputs.map(cell));
      const drawn = showFollowed(r.subject);
      bundle.replaceChildren(
        r.bundle_url ? h("a", { class: "button primary", href: r.bundle_url, download: "", text: `Download all ${r.outputs.length} as a zip` }) : "",
      );
      // what smart crop followed is said under the photo, where it is drawn: not twice
      const notes = drawn ? r.notes.filter((n) => n !== r.subject.note) : r.notes;
      status.ok(`${r.outputs.length} formats ready. ${notes.join(" ")}`);
    }).finally(() => grid.removeAttribute("aria-busy"));
  });

  root.append(h("h2", { text: "Social export" }), form, bundle, grid);
  return {
    async load() {
      try {
        const { templates } = await get("templates");
        platforms.querySelectorAll(".check").forEach((n) => n.remove());
        for (const p of [...new Set(templates.map((t) => t.platform))].sort()) {
          const c = h("input", { type: "checkbox", name: "platform", value: p, checked: all.checked, id: nextId() });
          platforms.append(h("div", { class: "check" }, c, h("label", { for: c.id, text: p })));
        }
      } catch (e) {
        status.error(e);
      }
    },
  };
}
