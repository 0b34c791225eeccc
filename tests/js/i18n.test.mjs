import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { chooseLanguage, LANGUAGES, ordinal, setLanguage, t } from "../../display/static/js/i18n.js";
import { STRINGS } from "../../display/static/js/strings.js";

const display = new URL("../../display/", import.meta.url);

test("?lang= forces, then the stored choice, then the browser, then English", () => {
  assert.equal(chooseLanguage("?lang=de", "it", ["it-IT"]), "de");
  assert.equal(chooseLanguage("?lang=xx", "it", ["de"]), "it");
  assert.equal(chooseLanguage("", null, ["fr-FR", "de-CH", "it"]), "de");
  assert.equal(chooseLanguage("", null, ["fr"]), "en");
});

test("texts with placeholders, places per language", () => {
  setLanguage("it");
  assert.equal(t("in_seconds", { n: 12 }), "tra 12 s");
  assert.equal(ordinal(1), "1°");
  setLanguage("de");
  assert.equal(ordinal(3), "3.");
  assert.equal(t("no_such_key"), "no_such_key");
  setLanguage("en");
  assert.deepEqual([1, 2, 3, 4, 11, 12, 13, 21, 112].map(ordinal),
    ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "112th"]);
});

test("every language has every key, with the same placeholders", () => {
  for (const language of LANGUAGES) {
    for (const [key, text] of Object.entries(STRINGS.en)) {
      assert.ok(key in STRINGS[language], `${language} lacks ${key}`);
      const holes = (value) => (value.match(/\{\w+\}/g) || []).sort().join();
      assert.equal(holes(STRINGS[language][key]), holes(text), `${language}.${key} placeholders`);
    }
    assert.deepEqual(Object.keys(STRINGS[language]).filter((key) => !(key in STRINGS.en)), []);
  }
});

test("every key the pages use exists", () => {
  const used = new Set();
  const dynamic = ["status_FIN", "status_DNF", "status_DNS", "status_DQ", "gender_F", "gender_M",
    "gender_X", "record_world", "record_course", "say_record_world", "say_record_course",
    "live_live", "live_connecting", "live_offline", "say_first_F", "say_first_M", "say_first_X"];
  dynamic.forEach((key) => used.add(key));
  for (const name of readdirSync(new URL("static/js/", display)).filter((file) => file.endsWith(".js"))) {
    const text = readFileSync(new URL(`static/js/${name}`, display), "utf8");
    for (const match of text.matchAll(/\bt\("(\w+)"/g)) used.add(match[1]);
    for (const match of text.matchAll(/initPage\("(\w+)"/g)) used.add(match[1]);
    for (const match of text.matchAll(/key: "(\w+)"/g)) used.add(match[1]);
  }
  for (const name of readdirSync(display).filter((file) => file.endsWith(".html"))) {
    const text = readFileSync(new URL(name, display), "utf8");
    for (const match of text.matchAll(/data-i18n(?:-\w+)?="(\w+)"/g)) used.add(match[1]);
  }
  const missing = [...used].filter((key) => !(key in STRINGS.en));
  assert.deepEqual(missing, []);
});
