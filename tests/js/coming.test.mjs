import assert from "node:assert/strict";
import { test } from "node:test";
import { comingList, finishRatio, splitPlaces, talkingPoints } from "../../display/static/js/coming.js";

const race = { id: "mile", gun_ms: 1_000_000, points: ["start", "half", "finish"] };
const row = (bib, extra) => ({ bib, status: "DNF", category: "F30-39", club: "", finish_ms: null,
  gun_ms: null, place: null, splits_ms: {}, ...extra });

test("without finishers a split's share of the course comes from its position", () => {
  assert.equal(finishRatio({ points: ["half", "finish"] }, "half", []), 2);
  assert.equal(finishRatio(race, "half", []), 1.5); // start counts as the first "split" point
});

test("the ratio is the median of finishers' own", () => {
  const rows = [
    row("1", { status: "FIN", gun_ms: 400, splits_ms: { half: 200 } }),
    row("2", { status: "FIN", gun_ms: 450, splits_ms: { half: 200 } }),
    row("3", { status: "FIN", gun_ms: 500, splits_ms: { half: 200 } }),
  ];
  assert.equal(finishRatio(race, "half", rows), 2.25);
});

test("who is coming, soonest first, from their pace", () => {
  const finisher = row("9", { status: "FIN", gun_ms: 400000, finish_ms: 1_400_000,
    splits_ms: { half: 200000 } });
  const slow = row("2", { splits_ms: { half: 250000 } });
  const fast = row("1", { splits_ms: { half: 210000 } });
  const now = 1_000_000 + 260000;
  const list = comingList(race, [finisher, slow, fast], now);
  assert.deepEqual(list.map((item) => item.row.bib), ["1", "2"]);
  assert.equal(list[0].expectedMs, 420000);
  assert.equal(list[0].secondsAway, 160);
  const seen = new Map([["2", now]]);
  const withSeen = comingList(race, [finisher, slow, fast], now, seen);
  assert.equal(withSeen.find((item) => item.row.bib === "2").secondsAway, 250);
  assert.deepEqual(comingList(race, [fast], now + 1000000).length, 0, "long overdue: left out");
  const laterWave = { ...fast, bib: "4", start_ms: 1_000_000 + 60000 };
  assert.equal(comingList(race, [finisher, laterWave], now)[0].secondsAway, 220, "own start");
});

test("split places and talking points", () => {
  const rows = [row("1", { splits_ms: { half: 100 } }), row("2", { splits_ms: { half: 90 },
    category: "M40-49" }), row("3", { splits_ms: { half: 95 } })];
  const places = splitPlaces(rows, "half");
  assert.deepEqual(places.get("3"), { place: 2, categoryPlace: 1 });
  assert.deepEqual(talkingPoints(rows[2], { splitPlace: places.get("3") }).map((l) => l.key),
    ["say_leads_category"]);
  const winner = row("5", { status: "FIN", place: 1, gun_ms: 60000, category_place: 1,
    club: "Gambero AC" });
  assert.deepEqual(talkingPoints(winner, { records: [{ kind: "world", ms: 69000 }] })
    .map((l) => l.key), ["say_wins_race", "say_wins_category", "say_record_world", "say_club"]);
});
