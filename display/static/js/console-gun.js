// Console: the gun panel. Each race and wave line says what its gun really is (GET /api/guns):
// fired (when, by whom), inherits the race's gun, or not fired. A gun not set: "Gun!" (press,
// then confirm: the instant of the first press is sent), or a typed time for a missed press.
// A gun that is set has no "Gun!" at all (a stray press once moved a started wave's gun and
// made it all DNS): "Correct" takes a typed time, previews who would move (?dry_run=true),
// then sends it with "correct": true.
import { previewTable } from "./console-ops.js";
import { t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay, parseDuration } from "./timefmt.js";

const TIME_OF_DAY = /^\s*(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,3}))?\s*$/;

/** A typed time of day as the API takes it (`HH:MM:SS[.f]`), or null. */
export function typedTimeOfDay(text) {
  const match = TIME_OF_DAY.exec(text || "");
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59 || Number(match[3]) > 59) return null;
  return `${match[1]}:${match[2]}:${match[3]}${match[4] ? `.${match[4]}` : ""}`;
}

/** A typed stopwatch reading as the API takes it (`[H:]MM:SS[.f]`), or null. */
export function typedStopwatch(text) {
  const clean = (text || "").trim().replace(",", ".");
  return parseDuration(clean) === null ? null : clean;
}

/** The words for a gun line's state (`line` as GET /api/guns answers it). */
export function gunStateText(line) {
  if (line.state === "not_fired") return t("gun_not_fired");
  if (line.state === "inherits") return t("gun_inherits", { time: line.local });
  if (line.source === "action") return t("gun_fired_by", { time: line.local, who: line.by || "?" });
  return t("gun_planned", { time: line.local });
}

function gunPreview(answer) {
  const changes = answer.changes || [];
  return previewTable(changes, `${t("gun_preview_count", { n: changes.length })} ${
    t("gun_retimed", { n: answer.retimed ?? 0 })}`);
}

export function setupGun(ctx) {
  const box = document.getElementById("gun-list");
  const armed = new Map(); // "race/wave" -> the instant of the first press
  const open = new Set(); // "race/wave" of the lines whose typed-time form is open
  const notes = new Map(); // "race/wave" -> {text, kind: "ok"|"error"} to show once, redrawn
  let lines = [];
  let waiting = false; // a refresh came while a press or a form was open

  const keyOf = (line) => `${line.race}/${line.wave ?? ""}`;
  const path = (line) => `/api/races/${encodeURIComponent(line.race)}/gun`;
  const busy = () => armed.size > 0 || open.size > 0;

  function labelOf(line) {
    const race = ctx.races.find((item) => item.id === line.race);
    const name = race ? race.name : line.race;
    return line.wave ? `${name} · ${t("wave")} ${line.wave}` : name;
  }

  function settled(key, note) {
    armed.delete(key);
    open.delete(key);
    if (note) notes.set(key, note);
    return refresh(true);
  }

  function pressControls(line, key, label) {
    const at = armed.get(key);
    if (at === undefined) {
      return [
        el("button", { type: "button", class: "primary", "aria-label": t("fire_gun_for", { name: label }),
          onclick: () => { armed.set(key, ctx.now()); render(); focusIn(key, ".danger"); } },
        t("fire_gun")),
        el("button", { type: "button", "aria-label": t("gun_type_time_for", { name: label }),
          onclick: () => { open.add(key); render(); focusIn(key, "input"); } }, t("gun_type_time")),
      ];
    }
    return [
      el("button", { type: "button", class: "danger", onclick: async () => {
        try {
          await ctx.call(path(line), { method: "POST", body: { time_ms: at, wave: line.wave } });
          await settled(key, { text: t("gun_recorded"), kind: "ok" });
        } catch (error) {
          // Refused (another desk fired it meanwhile: 409 says when and by whom): say why,
          // and show the gun as it now is.
          await settled(key, { text: `${t("error")}: ${error.message}`, kind: "error" });
        }
      } }, t("confirm_gun", { time: formatTimeOfDay(at, ctx.event.timezone) })),
      el("button", { type: "button", onclick: () => { armed.delete(key); render(); } }, t("cancel")),
      line.state === "inherits"
        ? el("span", { class: "muted" }, t("gun_replaces_inherited", { time: line.local })) : null,
    ];
  }

  function typedForm(line, key, label) {
    const correcting = line.state === "fired";
    const id = (name) => `gun-${name}-${key.replace(/[^\w-]/g, "_")}`;
    const how = el("select", { id: id("how"), name: "how" },
      el("option", { value: "clock" }, t("gun_by_time_of_day")),
      el("option", { value: "stopwatch" }, t("gun_by_stopwatch")));
    const clock = el("input", { id: id("clock"), name: "clock", size: "11", inputmode: "decimal",
      placeholder: "09:00:00.0", autocomplete: "off" });
    const watch = el("input", { id: id("watch"), name: "watch", size: "9", inputmode: "decimal",
      placeholder: "12:34.5", autocomplete: "off" });
    const reason = el("input", { id: id("reason"), name: "reason", size: "18", autocomplete: "off" });
    const clockLabel = el("label", { for: id("clock") }, t("gun_time_of_day"));
    // Not `hidden`: `.field` sets display, which would show it anyway.
    const watchField = el("div", { class: "field", style: "display: none" },
      el("label", { for: id("watch") }, t("gun_stopwatch_reading")), watch);
    const result = el("div", { class: "gun-result", "aria-live": "polite" });
    const confirm = el("button", { type: "button", class: "danger", disabled: true }, t("confirm"));
    let previewed = null;

    const invalidate = () => { previewed = null; confirm.disabled = true; };
    how.addEventListener("change", () => {
      const stopwatch = how.value === "stopwatch";
      watchField.style.display = stopwatch ? "" : "none";
      clockLabel.textContent = stopwatch ? t("gun_stopwatch_read_at") : t("gun_time_of_day");
    });
    const failed = (text) => result.replaceChildren(el("p", { class: "error", role: "alert" }, text));

    function request() {
      const localTime = typedTimeOfDay(clock.value);
      if (localTime === null) return { error: t("gun_time_needed") };
      const body = { local_time: localTime, wave: line.wave, reason: reason.value.trim(), correct: correcting };
      if (how.value === "stopwatch") {
        const elapsed = typedStopwatch(watch.value);
        if (elapsed === null) return { error: t("gun_stopwatch_needed") };
        body.elapsed = elapsed;
      }
      return { body };
    }

    const form = el("form", { class: "gun-form", autocomplete: "off",
      "aria-label": correcting ? t("gun_correct_for", { name: label }) : t("gun_type_time_for", { name: label }),
      oninput: invalidate, onchange: invalidate, onsubmit: async (submitted) => {
        submitted.preventDefault();
        const made = request();
        if (made.error) return failed(made.error);
        try {
          const answer = await ctx.call(`${path(line)}?dry_run=true`, { method: "POST", body: made.body });
          result.replaceChildren(...gunPreview(answer));
          previewed = made.body;
          confirm.disabled = false;
          confirm.focus();
        } catch (error) {
          failed(`${t("error")}: ${error.message}`);
        }
      } },
      el("div", { class: "row" },
        el("div", { class: "field" }, el("label", { for: id("how") }, t("gun_given_as")), how),
        el("div", { class: "field" }, clockLabel, clock),
        watchField,
        el("div", { class: "field" }, el("label", { for: id("reason") }, t("reason")), reason),
        el("button", { type: "submit", class: "primary" }, t("preview")),
        confirm,
        el("button", { type: "button", onclick: () => { open.delete(key); render(); } }, t("cancel"))),
      result);
    confirm.addEventListener("click", async () => {
      if (!previewed) return;
      const body = previewed;
      invalidate();
      try {
        await ctx.call(path(line), { method: "POST", body });
        await settled(key, { text: correcting ? t("gun_corrected") : t("gun_recorded"), kind: "ok" });
      } catch (error) {
        failed(`${t("error")}: ${error.message}`);
      }
    });
    return form;
  }

  function lineNode(line) {
    const key = keyOf(line);
    const label = labelOf(line);
    const note = notes.get(key);
    notes.delete(key);
    const message = el("span", { role: note && note.kind === "error" ? "alert" : "status" },
      note ? el("span", { class: note.kind }, note.text) : null);
    const controls = el("span", { class: "row" });
    if (line.state === "fired") {
      if (!open.has(key)) {
        controls.append(el("button", { type: "button", "aria-label": t("gun_correct_for", { name: label }),
          onclick: () => { open.add(key); render(); focusIn(key, "input"); } }, t("gun_correct")));
      }
    } else if (!open.has(key)) {
      controls.append(...pressControls(line, key, label).filter(Boolean));
    }
    return el("div", { class: "gun-race", "data-gun": key },
      el("span", { class: "name" }, label),
      el("span", { class: `gun-state gun-${line.state}` }, gunStateText(line)),
      controls, message,
      open.has(key) ? typedForm(line, key, label) : null);
  }

  function focusIn(key, selector) {
    const node = [...box.querySelectorAll(".gun-race")].find((item) => item.dataset.gun === key);
    const target = node && node.querySelector(selector);
    if (target) target.focus();
  }

  function render() {
    // Lines with an open form keep their node (and what is typed in it); the others redraw.
    const kept = new Map([...box.querySelectorAll(".gun-race")]
      .filter((node) => open.has(node.dataset.gun) && node.querySelector(".gun-form"))
      .map((node) => [node.dataset.gun, node]));
    box.replaceChildren(
      el("p", { class: "muted" }, t("gun_correct_hint")),
      ...lines.map((line) => kept.get(keyOf(line)) || lineNode(line)));
    if (!busy() && waiting) refresh();
  }

  async function refresh(force = false) {
    if (busy() && !force) {
      waiting = true; // a press or a form is open: the panel must not move under the hand
      return;
    }
    waiting = false;
    try {
      [lines] = await Promise.all([ctx.call("/api/guns"), ctx.refreshRaces()]);
    } catch (error) {
      box.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
      return;
    }
    render();
  }

  refresh(true);
  return { refresh };
}
