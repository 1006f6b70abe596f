// A public share link, viewed without signing in: /studio/share.html#<token>. What it shows comes
// from the API's public share route, which checks the link's expiry and revocation.
import { get, normalizeOutput, setApiBase } from "./api.js";
import { card, when } from "./ui.js";

const $ = (id) => document.getElementById(id);

async function open() {
  const status = $("share-status");
  const token = location.hash.slice(1);
  try {
    const cfg = await (await fetch("config.json", { cache: "no-store" })).json().catch(() => ({}));
    setApiBase(cfg.api_base);
    if (!token) throw new Error("This address has no share link in it.");
    const share = await get(`public/shares/${encodeURIComponent(token)}`);
    $("share-title").textContent = share.title || share.collection?.name || "Shared with you";
    $("share-meta").textContent = `${share.assets.length} item(s) · the link works until ${when(share.expires_at)}`;
    $("share-items").replaceChildren(
      ...share.assets.map((a) => {
        const o = normalizeOutput(a);
        const name = a.title || `Shared ${a.type === "model3d" ? "3D model" : a.type}`;
        return card(o, name, [], [], a.description);
      }),
    );
    status.hidden = true;
  } catch (e) {
    status.className = "status error";
    status.setAttribute("role", "alert");
    status.textContent = e.status === 404 ? "This link has expired or was revoked." : e.message;
  }
}

open();
