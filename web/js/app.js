// The Studio: sign-in, the tabs of every studio, the credits badge.
import { setApiBase, url } from "./api.js";
import { auth } from "./auth.js";
import { credits } from "./credits-state.js";
import { h } from "./ui.js";
import { batchesView } from "./views/batches.js";
import { controlView, editView, upscaleView } from "./views/studios.js";
import { createView } from "./views/create.js";
import { creditsView } from "./views/credits.js";
import { libraryView } from "./views/library.js";
import { newStudioTabs } from "./views/newstudios.js";
import { socialView } from "./views/social.js";
import { transformView } from "./views/transform.js";

const TABS = [
  ["create", "Create", createView],
  ["edit", "Edit", editView],
  ["upscale", "Upscale", upscaleView],
  ["control", "Control", controlView],
  ["social", "Social", socialView],
  ["transform", "Transform", transformView],
  ["batches", "Batches", batchesView],
  ["library", "Library", libraryView],
  ["credits", "Credits", creditsView],
];

const $ = (id) => document.getElementById(id);
const views = new Map();
let built = false;

async function boot() {
  let cfg = { api_base: "", auth: { mode: "dev", token_url: "/_local/dev-token" } };
  try {
    const r = await fetch("config.json", { cache: "no-store" });
    if (r.ok) cfg = await r.json();
  } catch {
    /* the defaults are the offline stack's */
  }
  setApiBase(cfg.api_base);
  auth.configure(cfg.auth);
  // Signing out (or a session that ended) starts the page afresh: nothing of the last user stays.
  auth.onChange((session) => (session || !built ? render(session) : location.reload()));
  credits.onChange((c) => {
    const badge = $("credits-badge");
    badge.hidden = false;
    badge.textContent = `${c.available} credits · ${c.plan} plan`;
  });
  try {
    await auth.completeRedirect();
  } catch (e) {
    $("signin-status").textContent = e.message;
    $("signin-status").className = "status error";
  }
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => auth.signOut());
  render(auth.session());
}

async function signIn(e) {
  e.preventDefault();
  const status = $("signin-status");
  const button = $("signin-button");
  button.disabled = true;
  status.className = "status loading";
  status.textContent = "Signing in…";
  try {
    if (auth.mode === "dev") await auth.devSignIn($("dev-user").value.trim() || "dev-user");
    else await auth.oidcSignIn();
    status.textContent = "";
    status.className = "status";
  } catch (err) {
    status.className = "status error";
    status.setAttribute("role", "alert");
    status.textContent = err.message;
  } finally {
    button.disabled = false;
  }
}

function render(session) {
  const signedIn = Boolean(session);
  $("signin").hidden = signedIn;
  $("tabs").hidden = !signedIn;
  $("panels").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  $("who").hidden = !signedIn;
  if (!signedIn) {
    $("credits-badge").hidden = true;
    const dev = auth.mode === "dev";
    $("dev-user-field").hidden = !dev;
    $("signin-text").textContent = dev
      ? "Offline stack: sign in with a dev token in one click (any user name; each has its own library and credits)."
      : "Sign in with your account to use the studios.";
    $("signin-button").textContent = dev ? "Sign in with a dev token" : "Sign in";
    return;
  }
  $("who").textContent = `Signed in as ${session.user}`;
  credits.load().catch(() => {});
  if (!built) build();
  else show(views.has(location.hash.slice(1)) ? location.hash.slice(1) : "create", false);
}

async function build() {
  built = true;
  const tabs = [...TABS];
  try {
    // Compression, Format Converter and Face Swap appear only where this API serves them.
    const r = await fetch(url("openapi.json"));
    if (r.ok) tabs.splice(4, 0, ...newStudioTabs(await r.json()));
  } catch {
    /* without the spec, the studios every stack has */
  }
  const list = document.querySelector("[role=tablist]");
  for (const [id, label, make] of tabs) {
    const tab = h("button", { type: "button", role: "tab", id: `tab-${id}`, "aria-controls": `panel-${id}`, "aria-selected": "false", tabindex: "-1", text: label });
    tab.addEventListener("click", () => show(id, true));
    tab.addEventListener("keydown", onTabKey);
    list.append(tab);
    const panel = h("section", { id: `panel-${id}`, role: "tabpanel", "aria-labelledby": `tab-${id}`, class: "panel", hidden: true });
    $("panels").append(panel);
    views.set(id, { panel, tab, view: make(panel), loaded: false });
  }
  const first = location.hash.slice(1);
  show(views.has(first) ? first : "create", false);
}

function onTabKey(e) {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const i = tabs.indexOf(e.currentTarget);
  const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (to === undefined) return;
  e.preventDefault();
  const next = tabs[(to + tabs.length) % tabs.length];
  next.focus();
  next.click();
}

function show(id, focus) {
  if (!views.has(id)) return;
  for (const [key, v] of views) {
    const on = key === id;
    v.panel.hidden = !on;
    v.tab.setAttribute("aria-selected", String(on));
    v.tab.tabIndex = on ? 0 : -1;
  }
  const v = views.get(id);
  if (location.hash.slice(1) !== id) history.replaceState(null, "", `#${id}`);
  if (!v.loaded || v.view.reload) {
    v.loaded = true;
    v.view.load?.();
  }
  if (focus) v.tab.focus();
}

window.addEventListener("hashchange", () => show(location.hash.slice(1), false));
boot();
