import assert from "node:assert/strict";
import { test } from "node:test";
import { alarmSignature, fallbackAlarms, stateText } from "../../display/static/js/console-health.js";
import { setLanguage } from "../../display/static/js/i18n.js";

test("reader states: a recording replayed whole is done, not disconnected", () => {
  setLanguage("en");
  assert.equal(stateText({ state: "connected", connected: true }), "connected");
  assert.equal(stateText({ state: "done", connected: false }), "done (file replayed)");
  assert.equal(stateText({ connected: false }), "NOT connected", "an older server: no state");
  assert.equal(stateText({ state: "disconnected", transport: "ingest" }),
    "idle (nothing posted for a minute)", "a reader that posts has no link to lose");
  setLanguage("it");
  assert.equal(stateText({ state: "done", connected: false }), "finito (file riprodotto)");
  setLanguage("en");
});

test("a changed state or cause asks the server for its alarms again", () => {
  const reader = { id: "gate", state: "connected", causes: {} };
  const before = alarmSignature([reader]);
  assert.equal(alarmSignature([{ ...reader, causes: {} }]), before);
  assert.notEqual(alarmSignature([{ ...reader, causes: { drift: {} } }]), before);
  assert.notEqual(alarmSignature([{ ...reader, state: "disconnected" }]), before);
});

test("a web-only server's readers: their own alarm texts, none to acknowledge", () => {
  assert.deepEqual(fallbackAlarms([{ id: "gate", alarm: "stopped", since_ms: 5 }, { id: "x", alarm: null }])
    .map((item) => [item.subject, item.cause, item.acknowledged]), [["gate", "stopped", null]]);
});
