import assert from "node:assert/strict";
import { test } from "node:test";
import { newPassings, ResultsStore } from "../../display/static/js/store.js";

const row = (bib, race, extra = {}) => ({ bib, race, status: "DNS", place: null, finish_ms: null,
  splits_ms: {}, category: "M30-39", ...extra });

test("snapshot then deltas, a bib moving races", () => {
  const store = new ResultsStore();
  store.applySnapshot({ type: "snapshot", seq: 3, races: {
    mile: { gun_ms: 10, rows: [row("1", "mile"), row("2", "mile")] },
    kids: { gun_ms: null, rows: [] } } });
  assert.equal(store.rows("mile").length, 2);
  const changes = store.applyDelta({ type: "delta", seq: 4, first_seq: 4, rows: [
    row("1", "mile", { status: "FIN", place: 1, finish_ms: 500, splits_ms: { half: 200 } }),
    row("2", "kids")] });
  assert.deepEqual(changes[0].passings, [{ kind: "split", point: "half" }, { kind: "finish", point: null }]);
  assert.deepEqual(store.rows("mile").map((r) => r.bib), ["1"]);
  assert.deepEqual(store.rows("kids").map((r) => r.bib), ["2"]);
  assert.deepEqual(store.lastFinishers("mile", 5).map((r) => r.bib), ["1"]);
  assert.deepEqual([...store.categoryLeaders("mile", ["M30-39", "F"], 3).entries()]
    .map(([c, rows]) => [c, rows.length]), [["M30-39", 1], ["F", 0]]);
});

test("a row already finished is no new passing", () => {
  const fin = row("1", "mile", { status: "FIN", place: 2, finish_ms: 5 });
  assert.deepEqual(newPassings(fin, { ...fin, place: 1 }), []);
  assert.deepEqual(newPassings(null, fin), [{ kind: "finish", point: null }]);
});

test("a race run in waves starts its clock with the first wave's gun", async () => {
  const { firstGun } = await import("../../display/static/js/store.js");
  assert.equal(firstGun({ gun_ms: null, waves: [{ id: "open", gun_ms: 500 }, { id: "elite", gun_ms: 200 }] }), 200);
  assert.equal(firstGun({ gun_ms: 100, waves: [{ id: "a", gun_ms: null }] }), 100);
  assert.equal(firstGun({ gun_ms: null, waves: [] }), null);
  assert.equal(firstGun(undefined), null);
});
