// One athlete: time, places, splits (with the place at each), laps, pace per km and per mile;
// follow them; updates live when they pass a point.
import { ordinal, t } from "./i18n.js";
import { api, el, fullName, shownTime } from "./page.js";
import { announce, followButton, link, live, whereNow } from "./spectate.js";

function placesList(row, race) {
  const items = [];
  if (row.place) items.push([t("overall"), ordinal(row.place), race ? race.finishers : null]);
  if (row.gender_place) items.push([t(`gender_${row.gender}`), ordinal(row.gender_place), null]);
  if (row.category_place) items.push([row.category, ordinal(row.category_place), null]);
  return el("ul", { class: "places" }, ...items.map(([label, place, of]) =>
    el("li", {}, `${label}: `, el("strong", {}, place), of ? ` ${t("of_n", { n: of })}` : "")));
}

function athleteView(row, race) {
  const finished = row.status === "FIN";
  const splits = row.splits || [];
  const laps = row.laps_detail || (Array.isArray(row.laps) ? row.laps : []);
  return [
    el("p", {}, el("a", { href: link({ race: row.race }) }, row.race_name || row.race)),
    el("h2", {}, fullName(row), el("span", { class: "muted" }, ` · ${t("bib")} ${row.bib}`)),
    el("p", {}, [row.category, row.club].filter(Boolean).join(" · ")),
    el("div", { class: "actions" }, followButton(row.bib)),
    el("p", { class: "big-time", "aria-label": t("time") },
      finished ? shownTime(row) : t(`status_${row.status}`)),
    finished && row.chip_time && row.chip_time !== row.gun_time
      ? el("p", {}, `${t("chip_time")}: `, el("strong", {}, row.chip_time)) : null,
    el("p", { class: "where" }, whereNow(row)),
    placesList(row, race),
    (row.pace_per_km || row.pace_per_mile) ? el("p", {},
      `${t("pace")}: `, el("strong", {}, row.pace_per_km ? `${row.pace_per_km} /km` : ""),
      row.pace_per_km && row.pace_per_mile ? " · " : "",
      el("strong", {}, row.pace_per_mile ? `${row.pace_per_mile} /mi` : "")) : null,
    splits.length ? el("section", { "aria-labelledby": "splits-title" },
      el("h3", { id: "splits-title" }, t("splits")),
      el("table", {},
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("point")),
          el("th", { class: "num", scope: "col" }, t("time")),
          el("th", { class: "num", scope: "col" }, t("place")))),
        el("tbody", {}, ...splits.map((split) => el("tr", {},
          el("td", {}, split.point), el("td", { class: "num time" }, split.time),
          el("td", { class: "num" }, split.place ? ordinal(split.place) : "")))))) : null,
    laps.length > 1 ? el("section", { "aria-labelledby": "laps-title" },
      el("h3", { id: "laps-title" }, t("laps")),
      el("table", {},
        el("thead", {}, el("tr", {}, el("th", { scope: "col" }, t("lap")),
          el("th", { class: "num", scope: "col" }, t("time")))),
        el("tbody", {}, ...laps.map((lap) => el("tr", {},
          el("td", {}, String(lap.lap)), el("td", { class: "num time" }, lap.time)))))) : null,
  ];
}

export async function renderAthlete(view, bib, races, since = null) {
  let row;
  try {
    row = await api(`/api/athletes/${encodeURIComponent(bib)}`);
  } catch (error) {
    view.replaceChildren(el("p", { class: "error" }, error.status === 404
      ? t("unknown_bib", { bib }) : `${t("error")}: ${error.message}`));
    return;
  }
  const raceOf = (athlete) => races.find((race) => race.id === athlete.race);
  view.replaceChildren(...athleteView(row, raceOf(row)).filter(Boolean));
  live([row.race], {
    onDelta: async (message) => {
      const mine = (message.rows || []).some((changed) => changed.bib === row.bib)
        || (message.reload || []).includes(row.race); // a gun or a big correction: fetch again
      if (!mine) return;
      row = await api(`/api/athletes/${encodeURIComponent(bib)}`);
      view.replaceChildren(...athleteView(row, raceOf(row)).filter(Boolean));
      view.querySelector(".where").classList.add("fresh");
      announce(`${fullName(row)}: ${whereNow(row)}`);
    },
  }, since);
}
