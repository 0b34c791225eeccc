// Helpers the spectator views share: links that keep the language, the follow button, the
// live feed, a line on where an athlete is now.
import { isFollowed, toggleFollow } from "./follow.js";
import { ordinal, t } from "./i18n.js";
import { LiveClient } from "./live.js";
import { el, showLiveStatus, shownTime } from "./page.js";

export function link(params) {
  const search = new URLSearchParams(params);
  const lang = new URLSearchParams(location.search).get("lang");
  if (lang) search.set("lang", lang);
  return `/?${search}`;
}

export function followButton(bib, onChange = () => {}) {
  const button = el("button", { type: "button", "aria-pressed": String(isFollowed(bib)) });
  const label = () => {
    const on = isFollowed(bib);
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? t("following") : t("follow");
  };
  button.addEventListener("click", () => { toggleFollow(bib); label(); onChange(); });
  label();
  return button;
}

export function announce(text) {
  document.getElementById("announce").textContent = text;
}

/** Follow the races' changes from `since` (the seq of what the page already shows), so the
 * server sends deltas rather than a whole snapshot: cheap on a phone. */
export function live(races, handlers, since = null) {
  const client = new LiveClient({ location, races, since, onStatus: showLiveStatus, ...handlers });
  client.start();
  if (!window.gamberoLive) { // once per page: they act on whichever client is current
    addEventListener("online", () => window.gamberoLive.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") window.gamberoLive.reconnectNow();
    });
  }
  window.gamberoLive = client;
  return client;
}

/** A short line on where an athlete is: finished in T, or passed a split in T. */
export function whereNow(row) {
  if (row.status === "FIN") {
    return t("finished_in", { time: shownTime(row), place: ordinal(row.place) });
  }
  if (row.status === "DQ") return t("status_DQ");
  const splits = Object.entries(row.splits_ms || {}).sort((a, b) => b[1] - a[1]);
  if (splits.length) {
    const [point] = splits[0];
    return t("passed_split", { point, time: row[`split_${point}`] || "" });
  }
  return t("no_passing_yet"); // live, DNS only means "not seen yet"
}
