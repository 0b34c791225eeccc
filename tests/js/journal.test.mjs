import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ACTIONS, actorName, describeEntry, journalPath, mergeNewest, SHOW,
} from "../../display/static/js/console-journal.js";
import { LANGUAGES, setLanguage } from "../../display/static/js/i18n.js";

// Entries as GET /api/journal gives them (tests/api/test_journal.py checks the server's side).
const base = { at_ms: 1778396460000, at_local: "09:01:00.0", actor: "timekeeper:finish desk",
  reason: "", bib: null, summary: "" };
const gun = { ...base, seq: 7, kind: "action", action: "gun", fields: { race: "mile",
  race_name: "Backwards Mile", wave: "open", time_ms: 1778396400000, time_local: "09:00:00.0",
  correct: false } };
const status = { ...base, seq: 8, kind: "action", action: "status", bib: "12",
  reason: "ran forwards", fields: { bib: "12", status: "DQ" } };
const penalty = { ...base, seq: 9, kind: "action", action: "penalty", bib: "12",
  fields: { bib: "12", ms: 1500 } };
const hand = { ...base, seq: 10, kind: "manual", action: null, bib: "12", fields: { bib: "12",
  point: "finish", reader: "finish-hand", time_ms: 1778396800250, time_local: "09:06:40.2" } };

const every = [gun, status, penalty, hand,
  { ...gun, seq: 11, fields: { ...gun.fields, correct: true, wave: null } },
  { ...gun, seq: 12, fields: { ...gun.fields, time_ms: null, time_local: null } },
  { ...status, seq: 13, fields: { bib: "12", status: null } },
  { ...base, seq: 14, kind: "action", action: "chip", bib: "12", fields: { bib: "12", chip: "AB01", move: true } },
  { ...base, seq: 15, kind: "action", action: "chip", bib: "12", fields: { bib: "12", chip: "AB01", move: false } },
  { ...base, seq: 16, kind: "action", action: "participant", bib: "900", fields: { bib: "900",
    first_name: "Ada", last_name: "Nuova", race: "kids", race_name: "Kids' 400 m", wave: null } },
  { ...base, seq: 17, kind: "action", action: "edit", bib: "12", fields: { bib: "12",
    first_name: "Jonas", last_name: "O'Brien", race: "mile", race_name: "Backwards Mile", wave: "elite" } },
  { ...base, seq: 18, kind: "action", action: "void", bib: "12", fields: { seq: 10, voided: "manual",
    bib: "12", chip: null, reader: "finish-hand", point: "finish", time_local: "09:06:40.2" } },
  { ...base, seq: 19, kind: "action", action: "void", bib: "12", fields: { seq: 3, voided: "read",
    bib: null, chip: "058000120162", reader: "finish-main", point: "finish", time_local: "09:06:41.0" } },
  { ...base, seq: 20, kind: "action", action: "void", fields: { seq: 4, voided: "entry" } },
  { ...base, seq: 21, kind: "action", action: "reassign", bib: "12", fields: { seq: 5, bib: "9999",
    to_bib: "12", point: "finish", time_local: "09:06:41.0" } },
  { ...base, seq: 22, kind: "action", action: "reader", fields: { reader: "finish-spare",
    point: "finish", format: "manual", clock_offset_ms: 0 } },
  { ...base, seq: 23, kind: "action", action: "alarm", fields: { alarm: "reader:finish-main:drift", measure: 1.5 } },
  { ...base, seq: 24, kind: "read", action: null, actor: "", bib: "12", fields: { chip: "058000120162",
    bib: "12", reader: "finish-main", point: "finish", time_local: "09:06:41.0" } },
  { ...base, seq: 25, kind: "read", action: null, actor: "", fields: { chip: "ffff", bib: null,
    reader: "finish-main", point: "finish", time_local: "09:06:42.0" } },
  { ...base, seq: 26, kind: "rejected", action: null, actor: "", reason: "not an IPICO record",
    fields: { reader: "finish-main", line: 7, raw: "aa01zz", lines: 1 } },
];

test("a gun, a status and a penalty in each language", () => {
  setLanguage("en");
  assert.equal(describeEntry(gun), "Gun fired: Backwards Mile, wave open, 09:00:00.0, by finish desk");
  assert.equal(describeEntry(status),
    "Status set: bib 12, Disqualified, by finish desk (reason: ran forwards)");
  assert.equal(describeEntry(penalty), "Penalty: bib 12, +1.5 s, by finish desk");
  assert.equal(describeEntry(hand), "Time entered: bib 12, finish, 09:06:40.2, by finish desk");
  setLanguage("it");
  assert.equal(describeEntry(gun), "Sparo: Backwards Mile, onda open, 09:00:00.0, da finish desk");
  assert.equal(describeEntry(status),
    "Stato: pettorale 12, Squalificato, da finish desk (motivo: ran forwards)");
  assert.equal(describeEntry(penalty), "Penalità: pettorale 12, +1,5 s, da finish desk");
  setLanguage("de");
  assert.equal(describeEntry(gun), "Startschuss: Backwards Mile, Welle open, 09:00:00.0, von finish desk");
  assert.equal(describeEntry(status),
    "Status: Startnummer 12, Disqualifiziert, von finish desk (Grund: ran forwards)");
  assert.equal(describeEntry(penalty), "Zeitstrafe: Startnummer 12, +1,5 s, von finish desk");
  setLanguage("en");
});

test("every kind and action is worded in every language, with nothing left unfilled", () => {
  const seenActions = new Set(every.filter((entry) => entry.action).map((entry) => entry.action));
  assert.deepEqual([...seenActions].sort(), [...ACTIONS].sort());
  for (const language of LANGUAGES) {
    setLanguage(language);
    const texts = every.map(describeEntry);
    for (const [index, text] of texts.entries()) {
      assert.doesNotMatch(text, /\{\w+\}|journal_|\bundefined\b|\bnull\b|\?/, `${language}: ${text}`);
      assert.ok(text.length > 10, text);
      const entry = every[index];
      for (const value of [entry.fields.bib, entry.fields.to_bib, entry.fields.chip,
        entry.fields.time_local, entry.fields.race_name]) {
        if (value) assert.ok(text.includes(value), `${language}: ${text} lacks ${value}`);
      }
    }
    assert.equal(new Set(texts).size, texts.length, `${language}: two entries worded alike`);
  }
  setLanguage("en");
  assert.equal(describeEntry(every[4]), "Gun corrected: Backwards Mile, 09:00:00.0, by finish desk");
  assert.equal(describeEntry(every[5]), "Gun taken back: Backwards Mile, wave open, by finish desk");
  assert.equal(describeEntry(every.find((entry) => entry.seq === 20)), "Entry #4 set aside for good, by finish desk");
  assert.equal(describeEntry(every.at(-1)), "Line rejected (finish-main): not an IPICO record");
  assert.equal(describeEntry({ ...base, seq: 1, kind: "action", action: "teleport", fields: {},
    summary: "teleport: bib=1" }), "teleport: bib=1, by finish desk");
});

test("who did it: the token's label, else its role and number", () => {
  assert.equal(actorName("timekeeper:finish desk"), "finish desk");
  assert.equal(actorName("admin:3"), "admin #3");
  assert.equal(actorName("timekeeper:a:b"), "a:b");
  assert.equal(actorName(""), "");
  assert.equal(actorName("gambero"), "gambero");
});

test("the filters make the API's query", () => {
  const query = (path) => Object.fromEntries(new URL(path, "http://x").searchParams);
  assert.deepEqual(query(journalPath({ show: "desk" })), { kind: "action,manual", limit: "50" });
  assert.deepEqual(query(journalPath({ show: "all", bib: " 12 ", chips: true }, 40)),
    { bib: "12", chips: "true", before: "40", limit: "50" });
  assert.deepEqual(query(journalPath({ show: "desk", bib: "7", chips: true })),
    { kind: "action,manual,read", bib: "7", chips: "true", limit: "50" });
  assert.deepEqual(query(journalPath({ show: "action", bib: "7", chips: true })),
    { kind: "action", bib: "7", chips: "true", limit: "50" });
  assert.deepEqual(query(journalPath({ show: "action:gun", bib: "", chips: true })),
    { action: "gun", limit: "50" });
  assert.deepEqual(query(journalPath({ show: "rejected" }, null, 5)), { kind: "rejected", limit: "5" });
  assert.equal(Object.keys(SHOW).length, 6 + ACTIONS.length);
});

test("a refresh adds what is new above what is shown, and starts over after a gap", () => {
  const entries = (...seqs) => seqs.map((seq) => ({ seq }));
  const seqs = (list) => list.map((entry) => entry.seq);
  const shown = entries(10, 9, 8, 7, 6, 5);
  assert.deepEqual(seqs(mergeNewest(shown, entries(12, 11, 10, 9), 4)), [12, 11, 10, 9, 8, 7, 6, 5]);
  assert.deepEqual(seqs(mergeNewest(shown, entries(10, 9, 8), 4)), [10, 9, 8, 7, 6, 5]);
  assert.deepEqual(seqs(mergeNewest(shown, entries(16, 15, 14, 13), 4)), [16, 15, 14, 13]);
  assert.deepEqual(seqs(mergeNewest([], entries(3, 2), 4)), [3, 2]);
});
