import assert from "node:assert/strict";
import { test } from "node:test";
import { changedFields, fieldNamed, fileLine } from "../../display/static/js/console-people.js";

const NAMES = ["bib", "first_name", "gender", "birth_date", "race", "wave", "chips"];

test("a refusal marks the field its message names first", () => {
  assert.equal(fieldNamed("chips: chip E1 already belongs to bib 1 (to move it ...)", NAMES), "chips");
  assert.equal(fieldNamed("bib 1 is already registered (Ruth Santoro, race mile)", NAMES), "bib");
  assert.equal(fieldNamed("wave: race kids has no wave 'open' (waves: none)", NAMES), "wave");
  assert.equal(fieldNamed("body.first_name: String should have at most 200 characters", NAMES), "first_name");
  assert.equal(fieldNamed("see the races list", ["race"]), null); // a whole word only
  assert.equal(fieldNamed("the journal did not answer", NAMES), null);
});

test("an edit sends only what changed; a missing value is an empty one", () => {
  const before = { bib: "1", first_name: "Ruth", last_name: "Santoro", gender: "F",
    birth_date: null, club: "", race: "mile", wave: "elite", category: "F60-69", chips: ["a"] };
  const same = { ...before, birth_date: "", chips: "", reason: "why" };
  assert.deepEqual(changedFields(before, same), {});
  assert.deepEqual(changedFields(before, { ...same, race: "kids", wave: "", club: "X" }),
    { race: "kids", wave: "", club: "X" });
});

test("a problem's place: the line alone in participants.csv, else the file too", () => {
  assert.equal(fileLine({ file: "participants.csv", line: 13 }), "13");
  assert.equal(fileLine({ file: "adjustments.csv", line: 4 }), "adjustments.csv:4");
  assert.equal(fileLine({ file: "participants.csv", line: null }), "");
});
