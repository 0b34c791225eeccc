// Console: keyboard bib entry at a timing point (bib + Enter, one request per bib, in order,
// retried while the network is away) and hand timing (taps and bibs merged, then posted).
import { batchOutcome, entryOutcome } from "./console-desk.js";
import { HandTiming } from "./handtiming.js";
import { t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay, parseTimeOfDay } from "./timefmt.js";

const HAND_KEY = "gambero.hand";
const LOG_SHOWN = 12;

function pointOptions(races) {
  const splits = [];
  for (const race of races) {
    for (const point of (race.points || []).slice(0, -1)) if (!splits.includes(point)) splits.push(point);
  }
  return [["", t("finish")], ...splits.map((point) => [point, point])];
}

export function setupEntry(ctx) {
  const form = document.getElementById("entry-form");
  const input = document.getElementById("entry-bib");
  const pointSelect = document.getElementById("entry-point");
  const log = document.getElementById("entry-log");
  pointSelect.replaceChildren(...pointOptions(ctx.races).map(([value, text]) =>
    el("option", { value }, text)));
  const queue = [];
  let sending = false;

  // One line per entry: its time, bib and point, then what happened; a bib nobody has is
  // red (never "recorded"), a warning is said under it.
  const line = (entry) => {
    const outcome = entry.outcome || [[entry.state, entry.ok === false ? "error" : ""]];
    entry.node.replaceChildren(
      `${formatTimeOfDay(entry.time_ms, ctx.event.timezone)}  ${t("bib")} ${entry.bib}` +
      `${entry.point ? ` @ ${entry.point}` : ""}: `,
      el("span", { class: outcome[0][1] || null }, outcome[0][0]),
      ...outcome.slice(1).map(([text, kind]) => el("div", { class: kind }, text)));
    entry.node.className = outcome.some(([, kind]) => kind === "error") ? "error"
      : outcome.some(([, kind]) => kind === "warn") ? "warn" : entry.ok ? "ok" : "";
  };

  async function flush() {
    if (sending) return;
    sending = true;
    while (queue.length) {
      const entry = queue[0];
      try {
        const answer = await ctx.call("/api/manual", { method: "POST", body: {
          entries: [{ bib: entry.bib, time_ms: entry.time_ms, point: entry.point }] } });
        entry.outcome = entryOutcome(answer, entry.bib, ctx.event.timezone);
        entry.ok = !entry.outcome.some(([, kind]) => kind === "error");
        queue.shift();
        if ((answer.unknown || []).length) ctx.onUnknown();
      } catch (error) {
        if (error.status && error.status < 500) {
          entry.state = `${t("error")}: ${error.message}`;
          entry.ok = false;
          queue.shift();
        } else {
          entry.state = t("entry_retrying");
          line(entry);
          await new Promise((resolve) => setTimeout(resolve, 2000));
          continue;
        }
      }
      line(entry);
    }
    sending = false;
  }

  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    const bib = input.value.trim();
    if (!bib) return;
    const entry = { bib, time_ms: ctx.now(), point: pointSelect.value || null,
      state: t("entry_sending"), ok: null, node: el("li") };
    input.value = "";
    line(entry);
    log.prepend(entry.node);
    while (log.children.length > LOG_SHOWN) log.lastChild.remove();
    queue.push(entry);
    flush();
  });
  input.addEventListener("keydown", (key) => {
    if (key.key === "Enter") { key.preventDefault(); form.requestSubmit(); }
  });
}

function loadHand() {
  try {
    const saved = JSON.parse(localStorage.getItem(HAND_KEY) || "null");
    if (saved && Array.isArray(saved.taps) && Array.isArray(saved.bibs)) return new HandTiming(saved);
  } catch (_error) { /* a damaged save starts empty */ }
  return new HandTiming();
}

export function setupHand(ctx) {
  const hand = loadHand();
  const tapButton = document.getElementById("tap");
  const form = document.getElementById("hand-form");
  const input = document.getElementById("hand-bib");
  const commit = document.getElementById("hand-commit");
  const message = document.getElementById("hand-message");
  const tbody = document.querySelector("#hand-table tbody");

  const save = () => {
    try { localStorage.setItem(HAND_KEY, JSON.stringify(hand)); } catch (_error) { /* full */ }
  };
  const fix = (labelKey, row, action) => el("button", { type: "button",
    "aria-label": t(labelKey, { row: row.index + 1 }), title: t(labelKey, { row: row.index + 1 }),
    onclick: () => { action(); save(); render(); } }, t(`${labelKey}_short`));

  /** A blank time (a missed tap) can be typed in, e.g. from a second stopwatch or a video. */
  function timeCell(row) {
    if (row.time_ms !== null) return formatTimeOfDay(row.time_ms, ctx.event.timezone);
    if (row.index >= hand.taps.length) return "—";
    return el("input", { class: "bib-edit time-edit", placeholder: "HH:MM:SS.s",
      "aria-label": t("time_of_row", { row: row.index + 1 }),
      onchange: (changed) => {
        const ms = parseTimeOfDay(changed.target.value, ctx.event.timezone, ctx.now());
        if (ms === null) {
          message.className = "error";
          message.textContent = t("bad_time_of_day");
          return;
        }
        hand.setTapTime(row.index, ms);
        save();
        render();
      } });
  }

  function render() {
    const rows = hand.rows();
    tbody.replaceChildren(...rows.map((row) => el("tr", { class: row.complete ? null : "incomplete" },
      el("td", { class: "num" }, String(row.index + 1)),
      el("td", { class: "time" }, timeCell(row)),
      el("td", {}, row.index < hand.bibs.length
        ? el("input", { class: "bib-edit", value: row.bib ?? "", "aria-label": t("bib_of_row", { row: row.index + 1 }),
          onchange: (changed) => { hand.setBib(row.index, changed.target.value); save(); render(); } })
        : "—"),
      el("td", {}, el("div", { class: "fixes" },
        fix("insert_time", row, () => hand.insertTap(row.index)),
        row.index < hand.taps.length ? fix("delete_time", row, () => hand.deleteTap(row.index)) : null,
        fix("insert_bib", row, () => hand.insertBib(row.index)),
        row.index < hand.bibs.length ? fix("delete_bib", row, () => hand.deleteBib(row.index)) : null)))));
    const count = hand.pairedCount();
    commit.textContent = t("post_rows", { n: count });
    commit.disabled = count === 0;
  }

  const tap = () => {
    hand.tap(ctx.now());
    save();
    render();
  };
  tapButton.addEventListener("click", tap);
  input.addEventListener("keydown", (key) => {
    if (key.key === " ") { key.preventDefault(); tap(); }
  });
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    if (hand.addBib(input.value)) { input.value = ""; save(); render(); }
  });
  commit.addEventListener("click", async () => {
    const { entries, skipped } = hand.commit();
    save();
    render();
    const skippedText = skipped.length
      ? ` ${t("hand_skipped", { n: skipped.length, bibs: skipped.map((row) => row.bib || "?").join(", ") })}` : "";
    if (!entries.length) {
      message.textContent = skippedText.trim();
      return;
    }
    try {
      const answer = await ctx.call("/api/manual", { method: "POST", body: { entries } });
      const said = batchOutcome(answer, ctx.event.timezone);
      message.className = said.some(([, kind]) => kind === "error") ? "error" : "ok";
      // Times under a bib nobody has are journaled but recorded for nobody: said apart.
      const unknown = entries.filter((entry) => (answer.unknown || []).includes(entry.bib)).length;
      message.replaceChildren(t("hand_posted", { accepted: Math.max(0, answer.accepted - unknown),
        duplicates: answer.duplicates, rejected: answer.rejected }) + skippedText,
      ...said.map(([text, kind]) => el("div", { class: kind }, text)));
      if ((answer.unknown || []).length) ctx.onUnknown();
    } catch (error) {
      hand.restoreFront(entries);
      save();
      render();
      message.className = "error";
      message.textContent = `${t("error")}: ${error.message}`;
    }
  });
  render();
}
