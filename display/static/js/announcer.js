// The announcer's view: who is coming (passed the last split, expected in N s from their
// own pace) with what is worth saying about them, and each finisher as they cross.
import { FeedClock, passingInstants } from "./feedclock.js";
import { comingList, splitPlaces, splitPoints, talkingPoints } from "./coming.js";
import { ordinal, t } from "./i18n.js";
import { LiveClient } from "./live.js";
import {
  api, el, fullName, initPage, loadAllRows, loadRaces, serverClockOffset, showLiveStatus, shownTime,
} from "./page.js";
import { recordsFor } from "./records.js";
import { firstGun, ResultsStore } from "./store.js";

const COMING_SHOWN = 12;
const FINISHED_SHOWN = 15;

const store = new ResultsStore();
const seenAt = new Map(); // bib -> when this page saw them pass their race's last split
const finishedOrder = []; // bibs, newest first, as this page saw them cross
let races = [];
let clock = new FeedClock();
const params = new URLSearchParams(location.search);
let raceFilter = params.get("race") || "";

function shownRaces() {
  return races.filter((race) => !raceFilter || race.id === raceFilter);
}

function sayList(lines) {
  return lines.length ? el("ul", { class: "say" }, ...lines.map((line) => el("li", {}, t(line.key, line.vars)))) : null;
}

function facts(row, race) {
  return el("div", { class: "facts" },
    [row.club, row.category, shownRaces().length > 1 ? race.name : ""].filter(Boolean).join(" · "));
}

/** Seconds until the finish, in real seconds (the demo's race runs faster than real time). */
function etaLabel(seconds) {
  return el("span", { class: `eta${seconds <= 0 ? " due" : ""}` },
    seconds > 0 ? t("in_seconds", { n: seconds }) : t("due_now"));
}

function renderComing() {
  const now = clock.now();
  const items = [];
  for (const race of shownRaces()) {
    const live = store.races.get(race.id);
    const withGun = { ...race, gun_ms: firstGun(live) ?? firstGun(race) };
    const rows = store.rows(race.id);
    const records = recordsFor(race, location.search);
    const splits = splitPoints(race);
    const places = splits.length ? splitPlaces(rows, splits[splits.length - 1]) : new Map();
    for (const item of comingList(withGun, rows, now, seenAt)) {
      items.push({ ...item, race, lines: talkingPoints(item.row,
        { splitPlace: places.get(item.row.bib), expectedMs: item.expectedMs, records }) });
    }
  }
  items.sort((a, b) => a.expectedAt - b.expectedAt);
  document.getElementById("coming").replaceChildren(...items.slice(0, COMING_SHOWN).map((item) =>
    el("li", { "data-bib": item.row.bib },
      etaLabel(Math.round(item.secondsAway / clock.rate)),
      el("div", { class: "who" }, el("span", { class: "bib" }, item.row.bib), fullName(item.row)),
      facts(item.row, item.race), sayList(item.lines))));
  if (!items.length) {
    document.getElementById("coming").append(el("li", { class: "muted" }, t("nobody_coming")));
  }
}

function renderFinished() {
  const rows = finishedOrder.map((bib) => store.find(bib))
    .filter((row) => row && row.status === "FIN" && (!raceFilter || row.race === raceFilter))
    .slice(0, FINISHED_SHOWN);
  document.getElementById("finished").replaceChildren(...rows.map((row) => {
    const race = races.find((item) => item.id === row.race) || { name: row.race };
    const lines = talkingPoints(row, { records: recordsFor(race, location.search) });
    return el("li", { "data-bib": row.bib },
      el("span", { class: "eta" }, shownTime(row)),
      el("div", { class: "who" }, el("span", { class: "bib" }, row.bib),
        `${ordinal(row.place)} ${fullName(row)}`),
      facts(row, race), sayList(lines));
  }));
}

function render() {
  renderComing();
  renderFinished();
}

function seedFinished() {
  finishedOrder.length = 0;
  const all = races.flatMap((race) => store.lastFinishers(race.id, FINISHED_SHOWN));
  all.sort((a, b) => b.finish_ms - a.finish_ms);
  finishedOrder.push(...all.map((row) => row.bib));
}

function onDelta(message) {
  for (const change of store.applyDelta(message)) {
    passingInstants(change).forEach((instant) => clock.observe(instant));
    const now = clock.now();
    const race = races.find((item) => item.id === change.row.race);
    const splits = race ? splitPoints(race) : [];
    for (const passing of change.passings) {
      if (passing.kind === "finish") {
        const index = finishedOrder.indexOf(change.row.bib);
        if (index >= 0) finishedOrder.splice(index, 1);
        finishedOrder.unshift(change.row.bib);
      } else if (passing.point === splits[splits.length - 1]) {
        seenAt.set(change.row.bib, now);
      }
    }
  }
  if (message.reload && message.reload.length) {
    loadRaces().then(async (fresh) => {
      races = fresh;
      for (const id of message.reload) {
        const race = races.find((item) => item.id === id);
        if (race) store.setRace(id, await loadAllRows(id), race.gun_ms, race.waves);
      }
      render();
    });
  }
  render();
}

async function main() {
  initPage("announcer");
  const [event, loaded] = await Promise.all([api("/api/event"), loadRaces()]);
  races = loaded;
  document.getElementById("event-name").textContent = event.name;
  const select = document.getElementById("race-filter");
  select.replaceChildren(el("option", { value: "" }, t("all_races")),
    ...races.map((race) => el("option", { value: race.id, selected: race.id === raceFilter }, race.name)));
  select.addEventListener("change", () => {
    raceFilter = select.value;
    const next = new URLSearchParams(location.search);
    if (raceFilter) next.set("race", raceFilter); else next.delete("race");
    history.replaceState(null, "", `${location.pathname}?${next}`);
    render();
  });
  clock = new FeedClock(await serverClockOffset());
  const client = new LiveClient({
    location,
    onSnapshot: (message) => {
      store.applySnapshot(message);
      seedFinished();
      const latest = finishedOrder.length ? store.find(finishedOrder[0]) : null;
      if (latest) clock.observe(latest.finish_ms);
      render();
    },
    onDelta,
    onStatus: showLiveStatus,
  });
  client.start();
  window.gamberoLive = client;
  addEventListener("online", () => client.reconnectNow());
  setInterval(renderComing, 1000);
}

main().catch((error) => {
  document.getElementById("coming").replaceChildren(el("li", { class: "error" }, `${t("error")}: ${error.message}`));
});
