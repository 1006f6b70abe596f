// Library: search and filters, favourites, collections, versions (lineage), share links with expiry
// and revoke.
import { api, get, normalizeOutput, post } from "../api.js";
import { busy, describe, field, h, media, nextId, select, selectInput, statusLine, when } from "../ui.js";

// The page that shows a share link to anyone who has it, next to this one.
const viewerUrl = (token) => new URL(`share.html#${token}`, location.href).href;

const EXPIRY = [["3600", "1 hour"], ["86400", "1 day"], ["604800", "7 days"], ["2592000", "30 days"]];

export function libraryView(root) {
  const search = h("input", { type: "search", placeholder: "Words in the prompt, title or tags" });
  const type = select([["", "Any type"], ["image", "Images"], ["video", "Videos"], ["audio", "Audio"], ["model3d", "3D models"]]);
  const source = select([["", "Any source"], ["generated", "Create"], ["edited", "Edit"], ["upscaled", "Upscale"], ["controlled", "Control"], ["social", "Social"], ["upload", "Uploads"], ["image-to-video", "Video"], ["talking-avatar", "Avatar"], ["image-to-3d", "3D"]]);
  const collection = select([["", "Any collection"]]);
  const sort = select([["created_at:desc", "Newest"], ["created_at:asc", "Oldest"], ["file_size:desc", "Largest"], ["cost:desc", "Most credits"], ["title:asc", "Title"]]);
  const favs = h("input", { type: "checkbox", id: nextId() });
  const find = h("button", { type: "submit", class: "primary", text: "Search" });
  const status = statusLine();
  const grid = h("div", { class: "gallery library", "aria-label": "Assets" });
  const more = h("button", { type: "button", class: "secondary", text: "Load more", hidden: true });
  const detail = h("div", { class: "detail", "aria-live": "polite" });
  const newCollection = h("input", { type: "text", placeholder: "Campaign name" });
  const addCollection = h("button", { type: "button", text: "Create collection" });
  const collections = h("div", {});
  const shares = h("div", {});
  const side = statusLine();
  let cursor = null;

  const query = () => {
    const q = new URLSearchParams({ limit: "24" });
    if (search.value.trim()) q.set("search", search.value.trim());
    if (type.value) q.set("asset_type", type.value);
    if (source.value) q.set("source_module", source.value);
    if (collection.value) q.set("collection_id", collection.value);
    if (favs.checked) q.set("favorites_only", "true");
    const [s, o] = sort.value.split(":");
    q.set("sort", s);
    q.set("order", o);
    return q;
  };

  const card = (a) => {
    const o = normalizeOutput(a);
    const fav = h("button", { type: "button", class: "icon", "aria-pressed": String(Boolean(a.favorite)), text: a.favorite ? "★ Favourite" : "☆ Favourite" });
    fav.addEventListener("click", async () => {
      try {
        const r = await post(`assets/${a.id}/favorite`, {});
        const on = r.favorite ?? !a.favorite;
        a.favorite = on;
        fav.setAttribute("aria-pressed", String(on));
        fav.textContent = on ? "★ Favourite" : "☆ Favourite";
      } catch (e) {
        status.error(e);
      }
    });
    const title = a.title || a.prompt || a.filename || a.operation || a.id;
    return h(
      "figure",
      { class: "card" },
      h("div", { class: "frame" }, media(o, title)),
      h(
        "figcaption",
        {},
        h("strong", { class: "clip", text: title }),
        h("span", { class: "meta", text: `${describe(o)} · ${when(a.created_at)}` }),
        h(
          "div",
          { class: "actions" },
          fav,
          h("button", { type: "button", text: "Details", onclick: () => showDetail(a) }),
          h("button", { type: "button", text: "Use as input", onclick: () => selectInput(o) }),
        ),
      ),
    );
  };

  const list = async (append) => {
    status.loading("Loading your library…");
    try {
      const q = query();
      if (append && cursor) q.set("cursor", cursor);
      const page = await get(`assets?${q}`);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      if (!append) grid.replaceChildren();
      grid.append(...page.assets.map(card));
      if (grid.children.length) status.clear();
      else status.empty("Nothing here yet: make something in Create, or change the filters.");
    } catch (e) {
      status.error(e);
    }
  };

  const showDetail = async (a) => {
    const st = statusLine();
    const expiry = select(EXPIRY, "604800");
    const share = h("button", { type: "button", text: "Create share link" });
    const link = h("p", {});
    share.addEventListener("click", () =>
      busy(share, st, "Creating the link…", async () => {
        const { data } = await api("shares", { method: "POST", body: { asset_id: a.id, expires_in: Number(expiry.value) } });
        const viewer = viewerUrl(data.token);
        link.replaceChildren(
          "Link to send: ",
          h("a", { class: "share-viewer", href: viewer, target: "_blank", rel: "noopener", text: viewer }),
          ` (expires ${when(data.expires_at)}) · `,
          h("a", { class: "share-api", href: data.url, target: "_blank", rel: "noopener", text: "the same as JSON" }),
        );
        st.ok("Share link created.");
        loadShares();
      }),
    );
    const lineage = h("ol", { class: "lineage" });
    detail.replaceChildren(
      h("h3", { text: `Asset ${a.title || a.id}` }),
      h("p", { class: "meta", text: `${a.type} · ${describe(normalizeOutput(a))} · ${a.operation || a.source} · ${a.cost_credits} credits · ${a.download_count} downloads` }),
      a.prompt ? h("p", { text: `Prompt: ${a.prompt}` }) : "",
      h("h4", { text: "Versions" }),
      lineage,
      h("h4", { text: "Share" }),
      h("div", { class: "row" }, field("Link expires after", expiry), share),
      link,
      st.el,
    );
    detail.scrollIntoView({ block: "nearest" });
    try {
      const v = await get(`assets/${a.id}/versions`);
      const item = (x, label) => h("li", {}, `${label}: ${x.operation || x.source || x.type} ${describe(normalizeOutput(x))} `, h("button", { type: "button", class: "link", text: "Open", onclick: () => showDetail(x) }));
      lineage.replaceChildren(
        ...v.ancestors.map((x) => item(x, "made from")),
        h("li", { text: `this: ${describe(normalizeOutput(v.asset))}` }),
        ...v.descendants.map((d) => item(d.asset, `version ${d.depth}`)),
      );
    } catch (e) {
      st.error(e);
    }
  };

  const loadCollections = async () => {
    const { collections: list } = await get("collections");
    const keep = collection.value;
    collection.replaceChildren(h("option", { value: "", text: "Any collection" }), ...list.map((c) => h("option", { value: c.id, text: c.name, selected: c.id === keep })));
    collections.replaceChildren(
      list.length
        ? h("ul", { class: "plain" }, ...list.map((c) => h("li", {}, `${c.name} (${c.asset_count}) `, h("button", { type: "button", class: "link", text: "Show", onclick: () => ((collection.value = c.id), list_()) }))))
        : h("p", { class: "empty-note", text: "No collections yet." }),
    );
  };
  const list_ = () => list(false);

  const loadShares = async () => {
    const { shares: list } = await get("shares");
    shares.replaceChildren(
      list.length
        ? h(
            "ul",
            { class: "plain" },
            ...list.map((s) => {
              const revoke = h("button", { type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke the link to ${s.title || s.target_id}`, disabled: !s.active });
              revoke.addEventListener("click", () =>
                busy(revoke, side, "Revoking…", async () => {
                  await api(`shares/${s.token}`, { method: "DELETE" });
                  side.ok("Link revoked: it now answers 404.");
                  loadShares();
                }),
              );
              return h("li", {}, h("a", { href: viewerUrl(s.token), target: "_blank", rel: "noopener", text: s.title || `${s.target_type} ${s.target_id}` }), ` · ${s.active ? `expires ${when(s.expires_at)}` : "revoked or expired"} · ${s.views} views `, revoke);
            }),
          )
        : h("p", { class: "empty-note", text: "No share links yet." }),
    );
  };

  addCollection.addEventListener("click", () =>
    busy(addCollection, side, "Creating…", async () => {
      if (!newCollection.value.trim()) throw new Error("Name the collection first.");
      await post("collections", { name: newCollection.value.trim() });
      newCollection.value = "";
      side.ok("Collection created.");
      await loadCollections();
    }),
  );
  more.addEventListener("click", () => list(true));
  const form = h(
    "form",
    { class: "panel-form filters", role: "search", "aria-label": "Search the library" },
    field("Search", search),
    h("div", { class: "row" }, field("Type", type), field("Source", source), field("Collection", collection), field("Sort", sort)),
    h("div", { class: "check" }, favs, h("label", { for: favs.id, text: "Favourites only" })),
    find,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    list(false);
  });
  root.append(
    h("h2", { text: "Library" }),
    h(
      "div",
      { class: "library-layout" },
      h("div", {}, form, status.el, grid, more, detail),
      h(
        "aside",
        { "aria-label": "Collections and share links" },
        h("h3", { text: "Collections" }),
        collections,
        h("div", { class: "row" }, field("New collection", newCollection), addCollection),
        h("h3", { text: "Share links" }),
        shares,
        side.el,
      ),
    ),
  );
  return {
    reload: true,
    async load() {
      await list(false);
      try {
        await Promise.all([loadCollections(), loadShares()]);
      } catch (e) {
        side.error(e);
      }
    },
  };
}
