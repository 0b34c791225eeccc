import assert from "node:assert/strict";
import { test } from "node:test";
import { recordBeaten, recordsFor } from "../../display/static/js/records.js";

test("world bests backwards by distance", () => {
  assert.deepEqual(recordsFor({ id: "k", distance_m: 400 }), [{ kind: "world", ms: 69000 }]);
  assert.deepEqual(recordsFor({ id: "k", distance_m: 1000 }), [{ kind: "world", ms: 212000 }]);
  assert.deepEqual(recordsFor({ id: "k", distance_m: 3000 }), [{ kind: "world", ms: 699000 }]);
  assert.deepEqual(recordsFor({ id: "mile", distance_m: 1609.344 }), []);
});

test("a course record from the race or the URL", () => {
  const race = { id: "mile", distance_m: 1609.344, record_ms: 400000 };
  assert.deepEqual(recordsFor(race), [{ kind: "course", ms: 400000 }]);
  assert.deepEqual(recordsFor(race, "?record_mile=6:00"), [{ kind: "course", ms: 360000 }]);
  const kids = recordsFor({ id: "kids", distance_m: 400, record_ms: 80000 });
  assert.deepEqual(recordBeaten(70000, kids), { kind: "course", ms: 80000 });
  assert.deepEqual(recordBeaten(68000, kids), { kind: "world", ms: 69000 });
  assert.deepEqual(recordBeaten(69000, kids), { kind: "course", ms: 80000 }, "equal is no record");
  assert.equal(recordBeaten(90000, kids), null);
});
