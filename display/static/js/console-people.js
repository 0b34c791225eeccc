// Console: participants at the desk. The problems found in the event's files come first (a
// skipped row is an athlete who would cross the line unknown); then look up a bib to see and
// edit it (PATCH /api/athletes/{bib}), add a participant (POST /api/athletes), or give the bib
// a chip (POST /api/chips). Each outcome is said in words; a refusal shows the server's own
// message, which names the field, and marks that field.
import { t } from "./i18n.js";
import { el } from "./page.js";

const LABELS = {
  bib: "bib", first_name: "people_first_name", last_name: "people_last_name", gender: "gender",
  birth_date: "people_birth_date", club: "people_club", race: "race", wave: "people_wave",
  category: "category", chips: "people_chips", reason: "reason",
};
const EDITABLE = ["first_name", "last_name", "gender", "birth_date", "club", "race", "wave", "category"];
const GENDERS = ["F", "M", "X"];
const WRAP = "overflow-wrap: anywhere"; // paths and long values wrap on a phone

/** The field a server's refusal is about: the one its message names first. */
export function fieldNamed(message, names) {
  let best = null;
  let at = Infinity;
  for (const name of names) {
    const found = message.search(new RegExp(`\\b${name}\\b`));
    if (found >= 0 && found < at) { best = name; at = found; }
  }
  return best;
}

/** The fields of `form` (name -> value, trimmed) that differ from the registration `before`. */
export function changedFields(before, values) {
  const changes = {};
  for (const name of EDITABLE) {
    const was = before[name] ?? "";
    if (values[name] !== was) changes[name] = values[name];
  }
  return changes;
}

/** Where a problem is: its line in participants.csv (the usual file), else file and line. */
export function fileLine(problem) {
  if (problem.file === "participants.csv") return problem.line === null ? "" : String(problem.line);
  return problem.line === null ? problem.file : `${problem.file}:${problem.line}`;
}

export function setupPeople(ctx) {
  const problemsBox = document.getElementById("people-problems");
  const editorBox = document.getElementById("people-editor");
  const message = el("p", { id: "people-message" });
  let current = null; // the registration shown, or null while adding a participant

  function say(text, kind = "ok") {
    message.className = kind;
    message.setAttribute("role", kind === "error" ? "alert" : "status");
    message.textContent = text;
  }

  // -- the problems of the files ------------------------------------------------------------
  async function refreshProblems() {
    let found;
    try {
      found = await ctx.call("/api/participants/problems");
    } catch (error) {
      problemsBox.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${error.message}`));
      return;
    }
    if (found.source === null) {
      problemsBox.replaceChildren(el("p", { class: "muted" }, t("people_no_file")));
      return;
    }
    if (!found.problems.length) {
      problemsBox.replaceChildren(el("p", { class: "ok", style: WRAP }, t("people_no_problems", { source: found.source })));
      return;
    }
    problemsBox.replaceChildren(
      el("p", { class: "error", style: WRAP }, t("people_problems", { n: found.problems.length, source: found.source })),
      el("table", { class: "people-problems" },
        el("thead", {}, el("tr", {}, el("th", { class: "num" }, t("people_line")), el("th", {}, t("bib")),
          el("th", {}, t("people_problem")))),
        el("tbody", {}, ...found.problems.map((problem) => el("tr", {},
          el("td", { class: "num" }, fileLine(problem)),
          el("td", {}, problem.bib === null ? "" : el("button", { type: "button",
            "aria-label": `${t("people_look_up")} ${problem.bib}`,
            onclick: () => lookUp(problem.bib) }, problem.bib)),
          el("td", { style: WRAP }, problem.problem))))));
  }

  // -- the form ------------------------------------------------------------------------------
  const controls = {
    bib: el("input", { id: "people-f-bib", size: "8", maxlength: "32", required: true }),
    first_name: el("input", { id: "people-f-first_name", size: "14", maxlength: "200" }),
    last_name: el("input", { id: "people-f-last_name", size: "14", maxlength: "200" }),
    gender: el("select", { id: "people-f-gender", required: true },
      el("option", { value: "" }, ""),
      ...GENDERS.map((code) => el("option", { value: code }, `${code} · ${t(`gender_${code}`)}`))),
    birth_date: el("input", { id: "people-f-birth_date", type: "date", min: "1900-01-01", max: ctx.event.date }),
    club: el("input", { id: "people-f-club", size: "16", maxlength: "200" }),
    race: el("select", { id: "people-f-race", required: true },
      ...ctx.races.map((race) => el("option", { value: race.id }, race.name))),
    wave: el("select", { id: "people-f-wave" }),
    category: el("input", { id: "people-f-category", size: "20", maxlength: "64",
      placeholder: t("people_category_auto") }),
    chips: el("input", { id: "people-f-chips", size: "24", placeholder: t("people_chips_hint") }),
    reason: el("input", { id: "people-f-reason", size: "18", maxlength: "500" }),
  };
  const field = (name) => el("div", { class: "field" },
    el("label", { for: controls[name].id }, t(LABELS[name])), controls[name]);

  function fillWaves(raceId, chosen) {
    const race = ctx.races.find((item) => item.id === raceId);
    controls.wave.replaceChildren(el("option", { value: "" }, t("people_no_wave")),
      ...((race && race.waves) || []).map((wave) => el("option", { value: wave.id }, wave.id)));
    controls.wave.value = chosen || "";
  }
  controls.race.addEventListener("change", () => fillWaves(controls.race.value, ""));

  const title = el("h3", { tabindex: "-1" });
  const chipsNow = el("p", { class: "muted", style: WRAP });
  const submit = el("button", { type: "submit", class: "primary" });
  const form = el("form", { id: "people-form", autocomplete: "off", hidden: true },
    title,
    el("div", { class: "row" }, field("bib"), field("first_name"), field("last_name"), field("gender"),
      field("birth_date"), field("club")),
    el("div", { class: "row" }, field("race"), field("wave"), field("category"), field("chips"),
      field("reason"), submit),
    chipsNow);
  form.addEventListener("input", () => unmark());
  form.addEventListener("submit", (submitted) => { submitted.preventDefault(); save(); });

  const chipInput = el("input", { id: "people-chip", size: "16", maxlength: "64", required: true });
  const chipLabel = el("label", { for: "people-chip" });
  const chipForm = el("form", { id: "people-chip-form", class: "row", autocomplete: "off", style: "display: none" },
    el("div", { class: "field" }, chipLabel, chipInput),
    el("button", { type: "submit" }, t("people_assign_chip")),
    el("span", { class: "muted" }, t("people_chip_hint")));
  chipForm.addEventListener("submit", (submitted) => { submitted.preventDefault(); assignChip(); });

  function unmark() {
    for (const control of [...Object.values(controls), chipInput]) {
      control.removeAttribute("aria-invalid");
      control.style.borderColor = "";
    }
  }

  function refused(error, names, fallback) {
    say(t("people_refused", { message: error.message }), "error");
    const name = fieldNamed(error.message, names);
    const control = name ? controls[name] : fallback;
    if (control) {
      control.setAttribute("aria-invalid", "true");
      control.style.borderColor = "var(--bad)";
      control.focus();
    }
  }

  function values() {
    const out = {};
    for (const name of Object.keys(controls)) out[name] = controls[name].value.trim();
    return out;
  }

  function show(registration, bib = "") {
    current = registration;
    unmark();
    const adding = registration === null;
    const shown = registration || { bib, first_name: "", last_name: "", gender: "", birth_date: "",
      club: "", race: ctx.races.length ? ctx.races[0].id : "", wave: "", category: "", chips: [] };
    for (const name of EDITABLE) controls[name].value = shown[name] ?? "";
    controls.bib.value = shown.bib;
    controls.bib.readOnly = !adding;
    fillWaves(shown.race, shown.wave);
    controls.chips.value = "";
    controls.chips.parentElement.style.display = adding ? "" : "none"; // .field's flex beats [hidden]
    controls.reason.value = "";
    title.textContent = adding ? t("people_adding")
      : t("people_editing", { bib: shown.bib, name: `${shown.first_name} ${shown.last_name}`.trim() });
    chipsNow.textContent = adding ? "" : `${t("people_chips")}: ${shown.chips.join(" ") || "–"}`;
    submit.textContent = adding ? t("people_add") : t("people_save");
    form.hidden = false;
    chipForm.style.display = adding ? "none" : "";
    chipLabel.textContent = adding ? "" : t("people_chip_for", { bib: shown.bib });
    chipInput.value = "";
  }

  async function lookUp(bib) {
    bib = String(bib).trim();
    finder.elements.bib.value = bib;
    if (!bib) { say(t("people_bib_needed"), "error"); return; }
    try {
      show(await ctx.call(`/api/athletes/${encodeURIComponent(bib)}/registration`));
      say("");
      controls.first_name.focus();
    } catch (error) {
      if (error.status !== 404) { say(t("people_refused", { message: error.message }), "error"); return; }
      show(null, bib);
      say(t("people_not_registered", { bib }), "muted");
      controls.first_name.focus();
    }
  }

  async function save() {
    const typed = values();
    try {
      if (current === null) {
        const body = { ...typed, chips: typed.chips.split(/[\s,]+/).filter(Boolean) };
        const answer = await ctx.call("/api/athletes", { method: "POST", body });
        const row = answer.row;
        const race = ctx.races.find((item) => item.id === row.race);
        say(t("people_added", { bib: row.bib, name: `${row.first_name} ${row.last_name}`.trim(),
          race: race ? race.name : row.race, category: row.category || "–" }));
      } else {
        const changes = changedFields(current, typed);
        if (!Object.keys(changes).length) { say(t("people_nothing_changed"), "error"); return; }
        await ctx.call(`/api/athletes/${encodeURIComponent(current.bib)}`, { method: "PATCH",
          body: { ...changes, reason: typed.reason } });
        say(t("people_saved", { bib: current.bib, fields: Object.entries(changes)
          .map(([name, value]) => `${t(LABELS[name])} → ${value || "–"}`).join(", ") }));
      }
      const text = message.textContent;
      show(await ctx.call(`/api/athletes/${encodeURIComponent(typed.bib)}/registration`));
      say(text);
    } catch (error) {
      refused(error, Object.keys(controls), null);
    }
  }

  async function assignChip() {
    const chip = chipInput.value.trim();
    if (!chip || current === null) return;
    const bib = current.bib;
    try {
      await ctx.call("/api/chips", { method: "POST", body: { chip, bib } });
      show(await ctx.call(`/api/athletes/${encodeURIComponent(bib)}/registration`));
      say(t("people_chip_assigned", { chip, bib }));
    } catch (error) {
      refused(error, [], chipInput);
    }
  }

  const finder = el("form", { id: "people-find", class: "row", autocomplete: "off" },
    el("div", { class: "field" }, el("label", { for: "people-bib" }, t("bib")),
      el("input", { id: "people-bib", name: "bib", size: "8", maxlength: "32" })),
    el("button", { type: "submit" }, t("people_look_up")),
    el("button", { type: "button", onclick: () => { show(null, finder.elements.bib.value.trim()); say(""); controls.bib.focus(); } },
      t("people_new")));
  finder.addEventListener("submit", (submitted) => { submitted.preventDefault(); lookUp(finder.elements.bib.value); });

  editorBox.replaceChildren(finder, message, form, chipForm);
  refreshProblems();
  return { refresh: refreshProblems };
}
