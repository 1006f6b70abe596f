// Transform: image to video, talking avatar, image to 3D as jobs: estimate, live progress, cancel,
// the result playable.
import { api, get } from "../api.js";
import { busy, estimateLine, field, h, imageInput, inputRef, select, statusLine, trackJob } from "../ui.js";

const KINDS = [
  ["image-to-video", "Image to video"],
  ["talking-avatar", "Talking avatar"],
  ["image-to-3d", "Image to 3D (GLB)"],
];

export function transformView(root) {
  const input = imageInput("Image");
  const audio = imageInput("Speech (WAV or MP3)", { accept: "audio/wav,audio/mpeg,audio/mp3", kind: "audio" });
  const kind = select(KINDS, "image-to-video");
  const prompt = h("textarea", { rows: 2, placeholder: "Slow camera push-in, gentle wind" });
  const resolution = select(["480p", "720p", "1080p"], "720p");
  const duration = select([["5", "5 s"], ["10", "10 s"]], "5");
  const model3d = select([["stable-fast-3d", "Stable Fast 3D"], ["spar3d", "SPAR3D"]]);
  const go = h("button", { type: "submit", class: "primary", text: "Start" });
  const status = statusLine();
  const jobs = h("div", { class: "jobs", "aria-label": "Jobs" });
  const videoFields = h("div", { class: "row" }, field("Resolution", resolution), field("Duration", duration));
  const promptField = field("Prompt", prompt);
  const audioField = h("fieldset", { hidden: true }, h("legend", { text: "Speech" }), audio.el);
  const modelField = field("3D model", model3d);

  const body = () => {
    const k = kind.value;
    const b = { ...inputRef(input.get()) };
    if (k !== "image-to-3d" && prompt.value.trim()) b.prompt = prompt.value.trim();
    if (k === "image-to-video") Object.assign(b, { resolution: resolution.value, duration: Number(duration.value) });
    if (k === "talking-avatar") {
      const a = audio.get();
      if (!a) throw new Error("Add the speech (a WAV or MP3 file) first.");
      b.audio_asset_id = a.asset_id;
      b.resolution = resolution.value === "1080p" ? "720p" : resolution.value;
    }
    if (k === "image-to-3d") b.model = model3d.value;
    return b;
  };

  const cost = estimateLine(
    "transform/estimate-cost",
    () => {
      const k = kind.value;
      const req = { operation: k };
      if (k === "image-to-video") Object.assign(req, { resolution: resolution.value, duration: Number(duration.value) });
      if (k === "image-to-3d") req.model = model3d.value;
      if (k === "talking-avatar") {
        const a = audio.get();
        if (!a?.duration) return null;
        req.duration_seconds = a.duration;
      }
      return req;
    },
    () => "reserved now, charged when the result is stored",
    "Add the speech to see the cost: an avatar is priced by its length.",
  );
  const estimate = cost.el;
  const refreshEstimate = cost.refresh;

  const sync = () => {
    const k = kind.value;
    videoFields.hidden = k === "image-to-3d";
    duration.closest(".field").hidden = k !== "image-to-video";
    promptField.hidden = k === "image-to-3d";
    audioField.hidden = k !== "talking-avatar";
    modelField.hidden = k !== "image-to-3d";
    refreshEstimate();
  };
  for (const c of [kind, resolution, duration, model3d]) c.addEventListener("change", sync);
  audio.onChange(refreshEstimate);

  const form = h(
    "form",
    { class: "panel-form", "aria-label": "Transform" },
    input.el,
    field("Turn the image into", kind),
    promptField,
    videoFields,
    audioField,
    modelField,
    estimate,
    go,
    status.el,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(go, status, "Starting the job…", async () => {
      const { data } = await api(`transform/${kind.value}`, { method: "POST", body: body() });
      document.dispatchEvent(new Event("credits-changed"));
      status.ok(`Job started: ${data.credits_reserved} credits reserved.`);
      trackJob(data, jobs);
    });
  });
  root.append(h("h2", { text: "Transform" }), form, h("h3", { text: "Jobs" }), jobs);
  return {
    async load() {
      sync();
      // Jobs still running from before (another tab, a reload) are followed again.
      try {
        for (const status of ["queued", "running"]) {
          const page = await get(`jobs?status=${status}&limit=10`);
          for (const j of page.jobs) if (!document.querySelector(`[aria-label="Job ${j.id}"]`)) trackJob(j, jobs);
        }
      } catch (err) {
        status.error(err);
      }
    },
  };
}
