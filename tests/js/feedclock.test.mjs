import assert from "node:assert/strict";
import { test } from "node:test";
import { FeedClock, passingInstants } from "../../display/static/js/feedclock.js";

test("a normal race: the server's clock, passings behind it change nothing", () => {
  const clock = new FeedClock(2000, 1_000_000);
  assert.equal(clock.now(1_000_500), 1_002_500);
  clock.observe(1_000_400, 1_000_500);
  assert.equal(clock.now(1_001_000), 1_003_000);
  assert.equal(clock.rate, 1);
});

test("a passing ahead of the clock moves it up; it never goes back", () => {
  const clock = new FeedClock(0, 0);
  clock.observe(5000, 1000);
  assert.equal(clock.now(1000), 5000);
  assert.equal(clock.now(2000), 6000);
  clock.observe(5500, 2000);
  assert.equal(clock.now(2000), 6000);
});

test("a feed running ten times real time makes the clock run at that rate", () => {
  const clock = new FeedClock(0, 0);
  for (let wall = 250; wall <= 6000; wall += 250) clock.observe(wall * 10, wall);
  assert.ok(Math.abs(clock.rate - 10) < 0.01, `rate ${clock.rate}`);
  assert.equal(clock.now(7000), 70000);
});

test("passing instants from a store change", () => {
  const row = { finish_ms: 9000, start_ms: 1000, splits_ms: { half: 4000 } };
  assert.deepEqual(passingInstants({ row, passings: [{ kind: "split", point: "half" },
    { kind: "finish", point: null }] }), [5000, 9000]);
});
