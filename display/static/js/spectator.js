// Spectator pages from `/`: the event's races, search by name or bib, followed athletes
// (home); `?race=ID` results with filters (`&print=1` for printing); `?bib=B` one athlete.
// Every view is a plain URL, so a QR code on a poster can point at any of them.
import { renderAthlete } from "./athlete.js";
import { followed } from "./follow.js";
import { t } from "./i18n.js";
import { api, el, fullName, initPage, loadRaces } from "./page.js";
import { renderResults } from "./results.js";
import { announce, followButton, link, live, whereNow } from "./spectate.js";

const view = document.getElementById("view");

async function renderHome(races, since) {
  const searchForm = el("form", { class: "search", role: "search" },
    el("label", { for: "find" }, t("find_athlete")),
    el("div", { class: "row" },
      el("input", { id: "find", name: "q", type: "search", autocomplete: "off",
        placeholder: t("name_or_bib"), style: "flex:1 1 10em" }),
      el("button", { type: "submit", class: "primary" }, t("search"))));
  const found = el("div", { id: "found", "aria-live": "polite" });
  const followedBox = el("div", { id: "followed" });
  view.replaceChildren(
    el("h2", {}, t("races")),
    el("ul", { class: "races" }, ...races.map((race) => el("li", {},
      el("a", { href: link({ race: race.id }) }, race.name,
        el("span", { class: "meta" }, t("race_meta", {
          distance: Math.round(race.distance_m), finishers: race.finishers, entrants: race.entrants,
        })))))),
    el("h2", {}, t("search")), searchForm, found,
    el("h2", {}, t("followed_athletes")), followedBox);
  searchForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = searchForm.elements.q.value.trim();
    if (!q) return;
    found.replaceChildren(el("p", {}, t("loading")));
    const pages = await Promise.all(races.map((race) => api(
      `/api/races/${encodeURIComponent(race.id)}/results?q=${encodeURIComponent(q)}&limit=20`)));
    const rows = pages.flatMap((page) => page.rows);
    found.replaceChildren(rows.length
      ? el("ul", { class: "followed" }, ...rows.map((row) => el("li", {},
        el("a", { class: "name", href: link({ bib: row.bib }) }, `${fullName(row)} (${row.bib})`),
        el("div", {}, `${races.find((race) => race.id === row.race)?.name || row.race} · ${whereNow(row)}`),
        followButton(row.bib, () => renderFollowed(followedBox)))))
      : el("p", {}, t("nobody_found", { q })));
  });
  await renderFollowed(followedBox, since);
}

async function renderFollowed(box, since = null) {
  const bibs = followed();
  if (!bibs.length) {
    box.replaceChildren(el("p", { class: "muted" }, t("follow_hint")));
    return;
  }
  // The feed's position before fetching the athletes: what they show is at least that recent.
  const position = window.gamberoLive ? window.gamberoLive.seq
    : since ?? (await api("/api/health").catch(() => ({ seq: null }))).seq;
  const athletes = (await Promise.all(bibs.map((bib) =>
    api(`/api/athletes/${encodeURIComponent(bib)}`).catch(() => null)))).filter(Boolean);
  const items = new Map();
  const card = (row) => el("li", { "data-bib": row.bib },
    el("a", { class: "name", href: link({ bib: row.bib }) }, `${fullName(row)} (${row.bib})`),
    el("div", { class: "where" }, whereNow(row)));
  box.replaceChildren(el("ul", { class: "followed" }, ...athletes.map((row) => {
    const item = card(row);
    items.set(row.bib, item);
    return item;
  })));
  if (window.gamberoLive) window.gamberoLive.stop();
  const races = [...new Set(athletes.map((row) => row.race))];
  live(races, {
    onDelta: (message) => {
      if ((message.reload || []).some((race) => races.includes(race))) {
        renderFollowed(box); // a gun or a big correction: fetch them again
        return;
      }
      for (const row of message.rows || []) {
        const item = items.get(row.bib);
        if (!item) continue;
        const fresh = card(row);
        fresh.classList.add("fresh");
        item.replaceWith(fresh);
        items.set(row.bib, fresh);
        announce(`${fullName(row)}: ${whereNow(row)}`);
      }
    },
  }, position);
}

async function main() {
  initPage("results");
  const params = new URLSearchParams(location.search);
  const [event, races] = await Promise.all([api("/api/event"), loadRaces()]);
  document.getElementById("event-name").textContent = event.name;
  document.getElementById("event-name").href = link({});
  if (params.get("bib")) {
    await renderAthlete(view, params.get("bib"), races, event.seq);
  } else if (params.get("race")) {
    const race = races.find((item) => item.id === params.get("race"));
    if (!race) view.replaceChildren(el("p", { class: "error" }, t("unknown_race")));
    else await renderResults(view, race, event, params);
  } else {
    await renderHome(races, event.seq);
  }
}

main().catch((error) => {
  view.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
});
