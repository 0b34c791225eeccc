import assert from "node:assert/strict";
import { test } from "node:test";
import { readerAlarm } from "../../display/static/js/console-health.js";
import { setLanguage } from "../../display/static/js/i18n.js";

const reader = (extra) => ({ id: "finish-main", format: "ipico", connected: true, alarm: null,
  drift_ms: 0, last_read_ms: 1_000_000, ...extra });

test("reader alarms: the server's first, then connection, drift and silence", () => {
  setLanguage("en");
  const now = 1_000_000 + 1000;
  assert.equal(readerAlarm(reader({}), now), null);
  assert.equal(readerAlarm(reader({ alarm: "stopped", connected: false }), now), "stopped");
  assert.equal(readerAlarm(reader({ connected: false }), now), "not connected");
  assert.equal(readerAlarm(reader({ connected: false, format: "manual" }), now), null,
    "hand timing has no connection to lose");
  assert.equal(readerAlarm(reader({ drift_ms: -1500 }), now), "clock drifts -1.5 s");
  assert.equal(readerAlarm(reader({ drift_ms: 900 }), now), null);
  assert.equal(readerAlarm(reader({}), now + 5 * 60 * 1000), "no reads for 5 minutes");
  setLanguage("it");
  assert.equal(readerAlarm(reader({ connected: false }), now), "non connesso");
  setLanguage("en");
});
