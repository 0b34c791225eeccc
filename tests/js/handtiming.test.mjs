import assert from "node:assert/strict";
import { test } from "node:test";
import { HandTiming } from "../../display/static/js/handtiming.js";

test("times and bibs pair in order", () => {
  const hand = new HandTiming();
  hand.tap(1000); hand.tap(2000); hand.tap(3000);
  hand.addBib("12"); hand.addBib(" 7 ");
  assert.equal(hand.pairedCount(), 2);
  const rows = hand.rows();
  assert.deepEqual(rows.map((r) => [r.time_ms, r.bib, r.complete]),
    [[1000, "12", true], [2000, "7", true], [3000, null, false]]);
  assert.equal(hand.addBib("  "), false);
});

test("a double tap is deleted and a missed tap inserted", () => {
  const hand = new HandTiming();
  for (const ms of [1000, 1100, 2000]) hand.tap(ms); // 1100 is a double tap
  for (const bib of ["1", "2", "3"]) hand.addBib(bib);
  hand.deleteTap(1);
  hand.insertTap(2, null); // nobody tapped the third finisher
  const { entries, skipped } = hand.commit();
  assert.deepEqual(entries, [
    { bib: "1", time_ms: 1000, point: null }, { bib: "2", time_ms: 2000, point: null }]);
  assert.deepEqual(skipped.map((row) => row.bib), ["3"]);
  assert.deepEqual(hand.toJSON(), { taps: [], bibs: [] });
});

test("a missed bib is inserted blank and can be filled in later", () => {
  const hand = new HandTiming();
  for (const ms of [1000, 2000, 3000]) hand.tap(ms);
  hand.addBib("1"); hand.addBib("3");
  hand.insertBib(1);
  assert.equal(hand.rows()[1].complete, false);
  hand.setBib(1, "2");
  const { entries } = hand.commit();
  assert.deepEqual(entries.map((e) => [e.bib, e.time_ms]), [["1", 1000], ["2", 2000], ["3", 3000]]);
});

test("commit takes only the rows both sequences reached; the rest stays", () => {
  const hand = new HandTiming();
  for (const ms of [1000, 2000, 3000]) hand.tap(ms);
  hand.addBib("5");
  const { entries } = hand.commit();
  assert.deepEqual(entries, [{ bib: "5", time_ms: 1000, point: null }]);
  assert.deepEqual(hand.toJSON(), { taps: [2000, 3000], bibs: [] });
  hand.restoreFront(entries);
  assert.deepEqual(hand.toJSON(), { taps: [1000, 2000, 3000], bibs: ["5"] });
});

test("state survives a reload through JSON", () => {
  const hand = new HandTiming();
  hand.tap(5); hand.addBib("9");
  const again = new HandTiming(JSON.parse(JSON.stringify(hand)));
  assert.deepEqual(again.rows(), hand.rows());
});
