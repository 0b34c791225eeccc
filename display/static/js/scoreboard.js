// The finish-line scoreboard: race clock from the gun, the last finishers as they cross,
// category leaders, record flags; cycles through races (and pages of categories) by itself.
// ?race=ID pins one race, ?cycle=SECONDS sets the race rotation (default 20).
import { FeedClock, passingInstants } from "./feedclock.js";
import { t, ordinal } from "./i18n.js";
import { LiveClient } from "./live.js";
import {
  api, el, fullName, initPage, loadAllRows, loadRaces, serverClockOffset, showLiveStatus, shownTime,
} from "./page.js";
import { recordBeaten, recordsFor } from "./records.js";
import { firstGun, ResultsStore } from "./store.js";
import { formatClock } from "./timefmt.js";

const LAST_FINISHERS = 7;
const LEADERS_PER_CATEGORY = 3;
const CATEGORIES_PER_PAGE = 4;
const CATEGORY_PAGE_MS = 8000;

const params = new URLSearchParams(location.search);
const pinned = params.get("race");
const cycleMs = Math.max(5, Number(params.get("cycle")) || 20) * 1000;

const store = new ResultsStore();
let races = [];
let current = 0;
let categoryPage = 0;
let clock = new FeedClock();
let holdUntil = 0;
const freshUntil = new Map(); // bib -> instant its highlight ends

function race() {
  return races[current] || null;
}

async function refreshRaces() {
  races = await loadRaces();
  if (pinned) current = Math.max(0, races.findIndex((item) => item.id === pinned));
  current = Math.min(current, Math.max(0, races.length - 1));
}

function showRace(index) {
  if (index === current) return;
  current = index;
  categoryPage = 0;
  render();
}

function rotate() {
  if (pinned || races.length < 2 || Date.now() < holdUntil) return;
  showRace((current + 1) % races.length);
}

function gunOf(item) {
  return firstGun(store.races.get(item.id)) ?? firstGun(item);
}

function tickClock() {
  const item = race();
  const node = document.getElementById("clock");
  if (!item) return;
  const gun = gunOf(item);
  node.textContent = gun === null ? t("waiting_for_gun") : formatClock(clock.now() - gun);
  node.classList.toggle("waiting", gun === null);
}

function finisherRow(row, records) {
  const record = recordBeaten(row.gun_ms, records);
  const fresh = (freshUntil.get(row.bib) || 0) > Date.now();
  return el("tr", { class: fresh ? "fresh" : null, "data-bib": row.bib },
    el("td", { class: "num" }, ordinal(row.place)),
    el("td", { class: "num" }, row.bib),
    el("td", { class: "name" }, fullName(row),
      record ? el("span", { class: "record" }, t(`record_${record.kind}`)) : null),
    el("td", {}, row.category || "",
      row.category_place ? el("span", { class: "catplace" }, ` ${ordinal(row.category_place)}`) : null),
    el("td", { class: "num time" }, shownTime(row)));
}

function renderLeaders(item) {
  const categories = item.categories || [];
  const pages = Math.max(1, Math.ceil(categories.length / CATEGORIES_PER_PAGE));
  categoryPage %= pages;
  const shown = categories.slice(categoryPage * CATEGORIES_PER_PAGE,
    (categoryPage + 1) * CATEGORIES_PER_PAGE);
  const leaders = store.categoryLeaders(item.id, shown, LEADERS_PER_CATEGORY);
  const blocks = [];
  for (const [category, rows] of leaders) {
    if (!rows.length) continue;
    blocks.push(el("div", { class: "leader-block" }, el("h3", {}, category),
      el("ol", {}, ...rows.map((row) => el("li", {},
        el("span", {}, `${ordinal(row.category_place)} ${fullName(row)}`),
        el("span", { class: "time" }, shownTime(row)))))));
  }
  const box = document.getElementById("leaders");
  box.replaceChildren(...blocks);
  if (!blocks.length) box.append(el("p", { class: "board-empty" }, t("no_finishers_yet")));
}

function render() {
  const item = race();
  if (!item) return;
  document.getElementById("race-name").textContent = item.name;
  const records = recordsFor(item, location.search);
  const last = store.lastFinishers(item.id, LAST_FINISHERS);
  document.querySelector("#finishers tbody").replaceChildren(
    ...last.map((row) => finisherRow(row, records)));
  document.getElementById("no-finishers").hidden = last.length > 0;
  renderLeaders(item);
  document.getElementById("race-tabs").replaceChildren(...races.map((other, index) =>
    el("li", { "aria-current": index === current ? "true" : null }, other.name)));
  tickClock();
}

function latestFinish() {
  let latest = null;
  for (const race of store.races.values()) {
    for (const row of race.rows.values()) {
      if (row.finish_ms && (latest === null || row.finish_ms > latest)) latest = row.finish_ms;
    }
  }
  return latest;
}

async function reloadRaces(ids) {
  await refreshRaces();
  for (const id of ids) {
    const item = races.find((other) => other.id === id);
    if (item) store.setRace(id, await loadAllRows(id), item.gun_ms, item.waves);
  }
  render();
}

function onDelta(message) {
  const changes = store.applyDelta(message);
  const now = Date.now();
  let finishedIn = null;
  for (const change of changes) {
    passingInstants(change).forEach((instant) => clock.observe(instant));
    if (change.passings.some((passing) => passing.kind === "finish")) {
      freshUntil.set(change.row.bib, now + 8000);
      finishedIn = change.row.race;
    }
  }
  if (finishedIn && !pinned) {
    const index = races.findIndex((item) => item.id === finishedIn);
    if (index >= 0) {
      holdUntil = now + cycleMs; // stay on the race people are finishing
      showRace(index);
    }
  }
  if (message.reload && message.reload.length) reloadRaces(message.reload);
  else render();
}

async function main() {
  initPage("scoreboard");
  const [event] = await Promise.all([api("/api/event"), refreshRaces()]);
  document.getElementById("event-name").textContent = event.name;
  clock = new FeedClock(await serverClockOffset());
  render();
  const client = new LiveClient({
    location,
    races: pinned ? [pinned] : [],
    onSnapshot: (message) => {
      store.applySnapshot(message);
      clock.observe(latestFinish());
      render();
    },
    onDelta,
    onStatus: showLiveStatus,
  });
  client.start();
  window.gamberoLive = client; // for the browser tests and for debugging at the venue
  addEventListener("online", () => client.reconnectNow());
  setInterval(tickClock, 250);
  setInterval(rotate, cycleMs);
  setInterval(() => { categoryPage += 1; const item = race(); if (item) renderLeaders(item); },
    CATEGORY_PAGE_MS);
}

main().catch((error) => {
  document.getElementById("race-name").textContent = `${t("error")}: ${error.message}`;
});
