import assert from "node:assert/strict";
import { test } from "node:test";
import { gunStateText, typedStopwatch, typedTimeOfDay } from "../../display/static/js/console-gun.js";
import { setLanguage } from "../../display/static/js/i18n.js";

test("typed times of day go to the API as HH:MM:SS[.f], anything else is refused", () => {
  assert.equal(typedTimeOfDay("09:05:00"), "09:05:00");
  assert.equal(typedTimeOfDay(" 9:05:00,25 "), "9:05:00.25"); // a decimal comma, as typed in it/de
  for (const bad of ["9:05", "24:00:00", "09:60:00", "09:00:60", "09:00:00.1234", "", null, "now"]) {
    assert.equal(typedTimeOfDay(bad), null, String(bad));
  }
});

test("stopwatch readings: MM:SS or H:MM:SS, with tenths", () => {
  assert.equal(typedStopwatch("4:29,5"), "4:29.5");
  assert.equal(typedStopwatch("1:02:03.4"), "1:02:03.4");
  for (const bad of ["4", "1:60:00", "4:61", "", "soon"]) assert.equal(typedStopwatch(bad), null, bad);
});

test("each gun state in words, per language", () => {
  const fired = { state: "fired", local: "09:00:00.0", source: "action", by: "timekeeper:finish" };
  const planned = { state: "fired", local: "09:05:00.0", source: "event.toml", by: null };
  const inherits = { state: "inherits", local: "09:05:00.0", source: "event.toml", by: null };
  setLanguage("en");
  assert.equal(gunStateText(fired), "gun at 09:00:00.0, fired by timekeeper:finish");
  assert.equal(gunStateText(planned), "gun at 09:05:00.0, set in event.toml");
  assert.equal(gunStateText(inherits), "inherits the race's gun (09:05:00.0)");
  assert.equal(gunStateText({ state: "not_fired", local: null }), "not fired");
  setLanguage("it");
  assert.equal(gunStateText(inherits), "segue lo sparo della gara (09:05:00.0)");
  setLanguage("de");
  assert.equal(gunStateText(fired), "Start um 09:00:00.0, ausgelöst von timekeeper:finish");
  setLanguage("en");
});
