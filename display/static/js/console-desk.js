// Console: what a hand time did (recorded, a bib nobody has, a warning), an athlete's passings
// as the journal holds them, and corrections: void a read or give a time typed under a bib
// nobody has to the right bib, each previewed (who would move) before it is confirmed.
import { t } from "./i18n.js";
import { previewTable } from "./console-ops.js";
import { el } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

/** The lines a POST /api/manual answer gives one entry, as [text, class]: never "recorded"
 * for a bib nobody has. `zone` is the event's timezone. */
export function entryOutcome(answer, bib, zone) {
  if ((answer.unknown || []).includes(bib)) return [[t("entry_unknown", { bib }), "error"]];
  const lines = [];
  if (answer.accepted) lines.push([t("entry_accepted"), "ok"]);
  else if (answer.duplicates) lines.push([t("entry_duplicate"), "ok"]);
  else lines.push([t("entry_rejected"), "error"]);
  for (const warning of answer.warnings || []) {
    if (warning.bib !== bib) continue;
    lines.push([t(`warn_${warning.code}`, {
      time: formatTimeOfDay(warning.time_ms, zone),
      detail: warning.detail_ms === null || warning.detail_ms === undefined
        ? "" : formatTimeOfDay(warning.detail_ms, zone) }), "warn"]);
  }
  return lines;
}

/** The same for a batch (hand timing): one line per unknown bib and per warning. */
export function batchOutcome(answer, zone) {
  const bibs = [...new Set((answer.warnings || []).map((warning) => warning.bib))];
  return [
    ...(answer.unknown || []).map((bib) => [t("entry_unknown", { bib }), "error"]),
    ...bibs.flatMap((bib) => entryOutcome(answer, bib, zone).filter(([, kind]) => kind === "warn")),
  ];
}

/** A correction in three steps: a reason, a dry run showing who would move, then confirm. */
function correction(ctx, { label, path, body, extra = [], onDone }) {
  const reason = el("input", { required: "", size: "18", "aria-label": t("reason"),
    placeholder: t("reason") });
  const result = el("div", { role: "status" });
  const confirm = el("button", { type: "button", class: "danger", disabled: "" }, t("confirm"));
  let previewed = null;
  const request = () => {
    const more = Object.fromEntries(extra.map(([key, input]) => [key, input.value.trim()]));
    return { ...body, ...more, reason: reason.value.trim() };
  };
  const invalidate = () => { previewed = null; confirm.disabled = true; };
  const form = el("form", { class: "row correction", onsubmit: async (submitted) => {
    submitted.preventDefault();
    const sent = request();
    if (!sent.reason || extra.some(([key]) => !sent[key])) {
      result.replaceChildren(el("p", { class: "error", role: "alert" }, t("reason_needed")));
      return;
    }
    try {
      const answer = await ctx.call(`${path}?dry_run=true`, { method: "POST", body: sent });
      result.replaceChildren(...previewTable(answer.changes || []));
      previewed = sent;
      confirm.disabled = false;
      confirm.focus();
    } catch (error) {
      result.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
    }
  } }, ...extra.map(([, input]) => input), reason,
  el("button", { type: "submit" }, `${label}: ${t("preview")}`), confirm);
  form.addEventListener("input", invalidate);
  confirm.addEventListener("click", async () => {
    if (!previewed) return;
    const sent = previewed;
    invalidate();
    try {
      const answer = await ctx.call(path, { method: "POST", body: sent });
      result.replaceChildren(el("p", { class: "ok", role: "status" },
        t("correction_done", { seq: answer.seq })));
      onDone();
    } catch (error) {
      result.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
    }
  });
  return el("div", { class: "correction-box" }, form, result);
}

/** Open `content` (a correction of the entry in `row`) under the table in `container`: a
 * preview's table needs the page's width, which a table cell does not have on a phone. */
function openUnder(container, row, title, content) {
  container.querySelector(".correction-panel")?.remove();
  for (const marked of container.querySelectorAll("tr.selected")) marked.classList.remove("selected");
  row.classList.add("selected");
  const panel = el("div", { class: "correction-panel", role: "group", "aria-label": title },
    el("h4", {}, title), content);
  container.append(panel);
  panel.scrollIntoView({ block: "nearest" });
  const input = content.querySelector("input");
  if (input) input.focus();
}

function passingState(passing) {
  if (passing.voided) return t("passing_voided", { seq: passing.voided_by });
  if (passing.counted) return t("passing_counted");
  return passing.passing === null ? t("passing_before_gun") : t("passing_repeat");
}

export function setupCorrections(ctx) {
  const zone = ctx.event.timezone;
  const form = document.getElementById("passings-form");
  const bibInput = document.getElementById("passings-bib");
  const box = document.getElementById("passings-list");
  const unknownBox = document.getElementById("unknown-bibs");
  let shownBib = null;

  async function showPassings(bib) {
    shownBib = bib;
    let passings;
    try {
      passings = await ctx.call(`/api/athletes/${encodeURIComponent(bib)}/passings`);
    } catch (error) {
      box.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
      return;
    }
    if (!passings.length) {
      box.replaceChildren(el("p", { class: "muted" }, t("no_passings", { bib })));
      return;
    }
    const rows = passings.map((passing) => {
      const row = el("tr", { class: passing.voided ? "voided" : passing.counted ? "counted" : null },
        el("td", { class: "num" }, String(passing.seq)), el("td", {}, passing.point),
        el("td", { class: "num" }, passing.passing === null ? "–" : String(passing.passing)),
        el("td", { class: "num" }, formatTimeOfDay(passing.time_ms, zone)),
        el("td", {}, passing.source === "manual" ? t("source_manual") : passing.source),
        el("td", {}, passing.by || ""), el("td", {}, passingState(passing)));
      row.append(el("td", {}, el("button", { type: "button", disabled: passing.voided ? "" : null,
        "aria-label": t("void_entry", { seq: passing.seq }),
        onclick: () => openUnder(box, row, t("void_entry", { seq: passing.seq }),
          correction(ctx, { label: t("void"),
          path: "/api/void", body: { seq: passing.seq },
            onDone: () => { showPassings(bib); refreshUnknown(); } })) }, t("void"))));
      return row;
    });
    box.replaceChildren(el("table", { class: "passings" },
      el("thead", {}, el("tr", {}, ...["#", t("point"), t("passing_no"), t("time_of_day"),
        t("source"), t("who"), t("state"), ""].map((text) => el("th", { scope: "col" }, text)))),
      el("tbody", {}, ...rows)));
  }

  async function refreshUnknown() {
    let entries;
    try {
      entries = await ctx.call("/api/unknown-bibs");
    } catch (error) {
      unknownBox.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${error.message}`));
      return;
    }
    if (unknownBox.contains(document.activeElement)) return; // do not yank a field being typed in
    if (!entries.length) {
      unknownBox.replaceChildren(el("p", { class: "muted" }, t("no_unknown_bibs")));
      return;
    }
    unknownBox.replaceChildren(el("table", {},
      el("thead", {}, el("tr", {}, ...["#", t("bib_typed"), t("point"), t("time_of_day"), t("who"),
        t("fix")].map((text) => el("th", { scope: "col" }, text)))),
      el("tbody", {}, ...entries.map((entry) => {
        const done = () => { refreshUnknown(); if (shownBib) showPassings(shownBib); };
        const row = el("tr", { class: "unknown-bib", "data-seq": String(entry.seq) },
          el("td", { class: "num" }, String(entry.seq)), el("td", { class: "error" }, entry.bib),
          el("td", {}, entry.point), el("td", { class: "num" }, formatTimeOfDay(entry.time_ms, zone)),
          el("td", {}, entry.by || ""));
        const give = () => {
          const toBib = el("input", { size: "6", inputmode: "numeric",
            "aria-label": t("right_bib_for", { seq: entry.seq }), placeholder: t("right_bib") });
          openUnder(unknownBox, row, t("give_entry", { seq: entry.seq, bib: entry.bib }),
            correction(ctx, { label: t("give_to_bib"), path: "/api/reassign",
              body: { seq: entry.seq }, extra: [["bib", toBib]], onDone: done }));
        };
        const drop = () => openUnder(unknownBox, row, t("void_entry", { seq: entry.seq }),
          correction(ctx, { label: t("void"), path: "/api/void", body: { seq: entry.seq },
            onDone: done }));
        row.append(el("td", {}, el("span", { class: "row" },
          el("button", { type: "button", onclick: give }, t("give_to_bib")),
          el("button", { type: "button", onclick: drop }, t("void")))));
        return row;
      }))));
  }

  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const bib = bibInput.value.trim();
    if (bib) showPassings(bib);
  });
  refreshUnknown();
  return { refreshUnknown, showPassings };
}
