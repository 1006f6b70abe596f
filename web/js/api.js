// The public API, with the signed-in user's JWT. Every failure becomes an ApiError carrying the
// API's own message, so each view can show it as the API said it.
import { auth } from "./auth.js";

export const PREFIX = "/api/image-studio/";
let base = "";

export function setApiBase(url) {
  base = (url || "").replace(/\/$/, "");
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

// The message a person can act on: our {"error": {"message"}}, API Gateway's {"message"},
// the original front end's {"detail"}.
export function messageOf(status, body) {
  if (body && typeof body === "object") {
    if (body.error && typeof body.error === "object" && body.error.message) return body.error.message;
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail) && body.detail[0]?.msg) return body.detail[0].msg;
    if (typeof body.message === "string") return body.message;
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 300);
  return `The API answered ${status}.`;
}

export function url(path) {
  return base + (path.startsWith("/") ? path : PREFIX + path);
}

export async function api(path, { method = "GET", body, headers = {}, text = false } = {}) {
  const init = { method, headers: { ...headers } };
  const token = auth.token();
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url(path), init);
  } catch {
    throw new ApiError(0, "The API could not be reached: check your connection and try again.");
  }
  const raw = await response.text();
  let parsed = raw;
  if ((response.headers.get("content-type") || "").includes("json") && raw) {
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = raw;
    }
  }
  if (!response.ok) {
    if (response.status === 401) {
      auth.expired();
      throw new ApiError(401, "Your session has ended: sign in again.", parsed);
    }
    throw new ApiError(response.status, messageOf(response.status, parsed), parsed);
  }
  return text ? raw : { status: response.status, data: parsed, location: response.headers.get("location") };
}

export const get = async (path) => (await api(path)).data;
export const post = async (path, body) => (await api(path, { method: "POST", body: body ?? {} })).data;

// One output, whatever view it came from: a synchronous answer (asset_id, url, mime, bytes), the job
// view (objects with mime_type, size_bytes; older stacks list plain asset ids) or an asset.
export function normalizeOutput(o) {
  return {
    asset_id: o.asset_id ?? o.id,
    url: o.url ?? o.download_url,
    thumbnail_url: o.thumbnail_url ?? null,
    width: o.width ?? null,
    height: o.height ?? null,
    mime_type: o.mime_type ?? o.mime ?? "",
    size_bytes: o.size_bytes ?? o.bytes ?? null,
    type: o.type ?? null,
    duration: o.duration ?? null,
  };
}

export async function jobOutputs(job) {
  return Promise.all(
    (job.outputs || []).map(async (o) =>
      normalizeOutput(typeof o === "string" ? await get(`assets/${encodeURIComponent(o)}`) : o),
    ),
  );
}

// A file to S3 through the API's presigned POST, with progress; answers the asset once it landed.
export async function uploadFile(file, onProgress = () => {}) {
  const ticket = await post("uploads", { content_type: file.type || "application/octet-stream", filename: file.name });
  const form = new FormData();
  for (const [k, v] of Object.entries(ticket.form.fields)) form.append(k, v);
  form.append("file", file);
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", ticket.form.url);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () =>
      xhr.status < 300
        ? resolve()
        : reject(new ApiError(xhr.status, storageMessage(xhr.responseText) || `The upload failed (${xhr.status}).`));
    xhr.onerror = () => reject(new ApiError(0, "The upload could not reach the storage: try again."));
    xhr.send(form);
  });
  onProgress(1);
  const statusUrl = ticket.upload.status_url;
  for (let i = 0; i < 60; i++) {
    const state = await get(statusUrl);
    if (state.upload.status === "ready" && state.asset) return { upload: state.upload, asset: state.asset };
    if (state.upload.status === "rejected") {
      throw new ApiError(422, state.upload.reason || state.upload.error?.message || "The file was refused.");
    }
    await sleep(500);
  }
  throw new ApiError(504, "The upload is still being checked: look for it in the Library in a minute.");
}

function storageMessage(xml) {
  const m = /<Message>([^<]+)<\/Message>/.exec(xml || "");
  return m ? m[1] : "";
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
