import assert from "node:assert/strict";
import { test } from "node:test";
import { formatClock, formatDuration, pace, parseDuration } from "../../display/static/js/timefmt.js";

test("durations round up to the precision like the results CSV", () => {
  assert.equal(formatDuration(399001), "6:40");
  assert.equal(formatDuration(399000), "6:39");
  assert.equal(formatDuration(3723000), "1:02:03");
  assert.equal(formatDuration(399301, 100), "6:39.4");
  assert.equal(formatDuration(399411, 10), "6:39.42");
  assert.equal(formatDuration(5000), "0:05");
  assert.equal(formatDuration(null), "");
});

test("the race clock truncates and grows hours", () => {
  assert.equal(formatClock(59999), "0:59");
  assert.equal(formatClock(3600000), "1:00:00");
  assert.equal(formatClock(-5), "");
});

test("pace per km and per mile", () => {
  assert.equal(pace(400000, 1609.344, 1000), "4:09");
  assert.equal(pace(400000, 1609.344, 1609.344), "6:40");
  assert.equal(pace(0, 1000, 1000), "");
});

test("parsing times back", () => {
  assert.equal(parseDuration("6:40"), 400000);
  assert.equal(parseDuration("1:02:03.4"), 3723400);
  assert.equal(parseDuration("6:75"), null);
  assert.equal(parseDuration("abc"), null);
});

test("a typed time of day in the event's zone", async () => {
  const { formatTimeOfDay, parseTimeOfDay } = await import("../../display/static/js/timefmt.js");
  const reference = Date.UTC(2026, 4, 10, 7, 30); // 09:30 in Rome (summer time, UTC+2)
  assert.equal(parseTimeOfDay("09:06:40.2", "Europe/Rome", reference), Date.UTC(2026, 4, 10, 7, 6, 40, 200));
  assert.equal(parseTimeOfDay("9:06:40", "UTC", reference), Date.UTC(2026, 4, 10, 9, 6, 40));
  const winter = Date.UTC(2026, 0, 10, 12, 0);
  assert.equal(parseTimeOfDay("10:00:00", "Europe/Rome", winter), Date.UTC(2026, 0, 10, 9, 0));
  assert.equal(formatTimeOfDay(parseTimeOfDay("10:00:00.5", "Europe/Rome", winter), "Europe/Rome"),
    "10:00:00.5");
  assert.equal(parseTimeOfDay("25:00:00", "UTC", reference), null);
  assert.equal(parseTimeOfDay("6:40", "UTC", reference), null);
});
