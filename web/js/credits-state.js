// The signed-in user's credits, loaded once and refreshed after anything that spends or returns them.
import { get } from "./api.js";

const listeners = new Set();
let last = null;

export const credits = {
  async load() {
    last = await get("credits");
    listeners.forEach((f) => f(last));
    return last;
  },
  get last() {
    return last;
  },
  onChange(f) {
    listeners.add(f);
  },
};
document.addEventListener("credits-changed", () => credits.load().catch(() => {}));
