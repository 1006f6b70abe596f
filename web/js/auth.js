// Sign-in. Offline: the dev token in one click (the offline stack's /_local/dev-token). Deployed:
// the stack's Cognito hosted UI (or the configured OIDC issuer) with the authorization code + PKCE.
const KEY = "studio.session";
const listeners = new Set();
let config = { mode: "dev" };

function decode(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}

function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (s && s.token && (decode(s.token).exp || 0) * 1000 > Date.now() + 10_000) return s;
  } catch {
    /* a damaged session is no session */
  }
  return null;
}

function save(token) {
  const claims = decode(token);
  const session = { token, user: claims.email || claims["cognito:username"] || claims.sub || "you" };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  listeners.forEach((f) => f(session));
  return session;
}

function b64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function redirectUri() {
  return location.origin + location.pathname;
}

async function endpoints() {
  if (config.authorize_endpoint && config.token_endpoint) return config;
  const doc = await (await fetch(config.issuer.replace(/\/$/, "") + "/.well-known/openid-configuration")).json();
  return { ...config, authorize_endpoint: doc.authorization_endpoint, token_endpoint: doc.token_endpoint };
}

export const auth = {
  configure(c) {
    config = c || { mode: "dev" };
  },
  get mode() {
    return config.mode;
  },
  session: load,
  token() {
    return load()?.token || null;
  },
  onChange(f) {
    listeners.add(f);
  },
  async devSignIn(user) {
    const r = await fetch(config.token_url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.message || `Sign-in failed (${r.status}).`);
    return save(body.token);
  },
  async oidcSignIn() {
    const ep = await endpoints();
    const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
    const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    sessionStorage.setItem("studio.pkce", JSON.stringify({ verifier, state }));
    const q = new URLSearchParams({
      response_type: "code",
      client_id: config.client_id,
      redirect_uri: redirectUri(),
      scope: config.scope || "openid email profile",
      state,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    location.assign(`${ep.authorize_endpoint}?${q}`);
  },
  // Back from the hosted UI with ?code=&state=: trade the code for tokens, then clean the address.
  async completeRedirect() {
    const q = new URLSearchParams(location.search);
    if (!q.get("code")) return null;
    const pkce = JSON.parse(sessionStorage.getItem("studio.pkce") || "null");
    sessionStorage.removeItem("studio.pkce");
    history.replaceState(null, "", redirectUri());
    if (!pkce || pkce.state !== q.get("state")) throw new Error("The sign-in answer did not match this page: sign in again.");
    const ep = await endpoints();
    const r = await fetch(ep.token_endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: config.client_id,
        code: q.get("code"),
        redirect_uri: redirectUri(),
        code_verifier: pkce.verifier,
      }),
    });
    const tokens = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(tokens.error_description || tokens.error || `Sign-in failed (${r.status}).`);
    return save(tokens.id_token || tokens.access_token);
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    if (config.mode === "oidc" && config.logout_endpoint) {
      // The hosted UI ends its own session too, then comes back to the page.
      const q = new URLSearchParams({ client_id: config.client_id, logout_uri: redirectUri() });
      location.assign(`${config.logout_endpoint}?${q}`);
      return;
    }
    listeners.forEach((f) => f(null));
  },
  expired() {
    if (sessionStorage.getItem(KEY)) {
      sessionStorage.removeItem(KEY);
      listeners.forEach((f) => f(null));
    }
  },
};
