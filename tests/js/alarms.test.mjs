import assert from "node:assert/strict";
import { test } from "node:test";
import { alarmClears, alarmDetail, alarmHeadline, splitAlarms } from "../../display/static/js/console-alarms.js";
import { setLanguage } from "../../display/static/js/i18n.js";

const NOW = 1_700_000_000_000;
const alarm = (extra) => ({ id: "reader:gate:link", kind: "link", subject: "gate",
  cause: "disconnected: the reader closed the connection", since_ms: NOW - 60_000,
  clear_when: "the reader is connected again", measure: null, details: {}, acknowledged: null, ...extra });

test("each kind's headline, in the page's language, with its measure", () => {
  setLanguage("en");
  assert.equal(alarmHeadline(alarm({}), NOW), "Reader gate is not connected");
  assert.equal(alarmHeadline(alarm({ kind: "drift", measure: 3250 }), NOW),
    "Reader gate: its clock drifted 3.3 s");
  assert.equal(alarmHeadline(alarm({ kind: "quiet", since_ms: NOW - 7.5 * 60_000 }), NOW),
    "Reader gate: no reads for 7 min");
  assert.ok(alarmHeadline(alarm({ kind: "quarantined", subject: 12,
    details: { summary: "gun: race='1k'", error: "no date can show it" } }), NOW)
    .startsWith("Journal entry 12 (gun: race='1k') cannot apply and is set aside: no date can show it."));
  assert.equal(alarmHeadline(alarm({ kind: "new-kind", cause: "something" }), NOW), "Reader gate: something");
  setLanguage("de");
  assert.equal(alarmHeadline(alarm({ kind: "clock", measure: 1500 }), NOW), "Lesegerät gate: seine Uhr weicht 1.5 s ab");
  assert.equal(alarmClears(alarm({})), "Erlischt, wenn das Lesegerät wieder verbunden ist.");
  setLanguage("en");
});

test("the server's words where the headline needs them, its clear condition for a new kind", () => {
  setLanguage("en");
  assert.equal(alarmDetail(alarm({})), "disconnected: the reader closed the connection");
  assert.equal(alarmDetail(alarm({ kind: "drift", measure: 2000 })), null);
  assert.equal(alarmClears(alarm({ kind: "new-kind", clear_when: "it stops" })), "it stops");
  assert.equal(alarmClears(alarm({ kind: "quarantined" })),
    "Clears when an operator voids the entry (gambero db check --void).");
});

test("acknowledged alarms leave the bar", () => {
  const seen = alarm({ id: "reader:gate:drift", acknowledged: { by: "admin:desk", at_ms: NOW, measure: 2000 } });
  const { open, acknowledged } = splitAlarms([alarm({}), seen]);
  assert.deepEqual([open.map((a) => a.id), acknowledged.map((a) => a.id)],
    [["reader:gate:link"], ["reader:gate:drift"]]);
});
