// Console: the journal (who did what, when), each entry worded in the page's language from the
// typed fields GET /api/journal gives, times in the event's local time as the server wrote
// them. Filters: what to show (a kind, or one kind of action) and an athlete's bib; "older"
// pages back. Refreshed on live deltas (console.js calls refresh()).
import { language, t } from "./i18n.js";
import { debounce, el, throttle } from "./page.js";

export const PAGE = 50;
export const ACTIONS = ["gun", "status", "penalty", "chip", "participant", "edit", "void",
  "reassign", "reader", "alarm"];
/** The "show" choices: a value of the select -> the query it makes. */
export const SHOW = {
  desk: { kind: "action,manual" }, action: { kind: "action" }, manual: { kind: "manual" },
  read: { kind: "read" }, rejected: { kind: "rejected" }, all: {},
  ...Object.fromEntries(ACTIONS.map((name) => [`action:${name}`, { action: name }])),
};

/** Who took an action: the token's label ("timekeeper:finish desk" -> "finish desk"); a token
 * without one is known by its role and number. */
export function actorName(actor) {
  const text = String(actor || "");
  const colon = text.indexOf(":");
  if (colon < 0) return text;
  const [role, rest] = [text.slice(0, colon), text.slice(colon + 1)];
  return /^\d+$/.test(rest) ? `${role} #${rest}` : rest;
}

function seconds(ms) {
  return `${new Intl.NumberFormat(language(), { maximumFractionDigits: 3 }).format(ms / 1000)} s`;
}

function raceText(name, wave) {
  return wave ? t("journal_race_wave", { race: name ?? "", wave }) : (name ?? "");
}

/** The main sentence of an entry, from its kind, action and fields. */
function sentence(entry) {
  const f = entry.fields || {};
  const time = f.time_local ?? "";
  const point = f.point ?? f.reader ?? "";
  if (entry.kind === "manual") return t("journal_manual", { bib: f.bib, point, time });
  if (entry.kind === "read") {
    return f.bib ? t("journal_read_bib", { chip: f.chip, bib: f.bib, point, time })
      : t("journal_read", { chip: f.chip, point, time });
  }
  if (entry.kind === "rejected") return t("journal_rejected", { reader: f.reader, reason: entry.reason });
  const name = `${f.first_name || ""} ${f.last_name || ""}`.trim();
  switch (entry.action) {
    case "gun": {
      const what = raceText(f.race_name ?? f.race, f.wave);
      if (f.time_ms === null || f.time_ms === undefined) return t("journal_gun_cleared", { what });
      return t(f.correct ? "journal_gun_correct" : "journal_gun", { what, time: f.time_local ?? f.time_ms });
    }
    case "status":
      return f.status ? t("journal_status", { bib: f.bib, status: t(`status_${f.status}`) })
        : t("journal_status_cleared", { bib: f.bib });
    case "penalty":
      return t("journal_penalty", { bib: f.bib, time: f.ms === null ? "?" : seconds(f.ms) });
    case "chip":
      return t(f.move ? "journal_chip_move" : "journal_chip", { chip: f.chip, bib: f.bib });
    case "participant":
    case "edit":
      return t(`journal_${entry.action}`, { bib: f.bib, name, race: raceText(f.race_name ?? f.race, f.wave) });
    case "void":
      if (f.voided === "entry") return t("journal_void_entry", { seq: f.seq });
      return t(f.voided === "manual" ? "journal_void_manual" : "journal_void_read",
        { bib: f.bib, chip: f.chip, point, time, seq: f.seq ?? "?" });
    case "reassign":
      return t("journal_reassign", { bib: f.bib, to_bib: f.to_bib, point, time, seq: f.seq ?? "?" });
    case "reader":
      return t("journal_reader", { reader: f.reader, point: f.point, format: f.format });
    case "alarm": {
      const text = t("journal_alarm", { alarm: f.alarm });
      return f.measure === null || f.measure === undefined ? text : `${text} (${f.measure})`;
    }
    default:
      return entry.summary; // an action this page does not know yet: the server's English line
  }
}

/** An entry as one line in the page's language: what, by whom, and why. */
export function describeEntry(entry) {
  let text = sentence(entry);
  const who = actorName(entry.actor);
  if (who) text += `, ${t("journal_by", { who })}`;
  if (entry.reason && entry.kind !== "rejected") text += ` (${t("journal_reason", { reason: entry.reason })})`;
  return text;
}

/** The API path for a filter ({show, bib, chips}), before a seq (paging back) or the newest. */
export function journalPath(filter, before = null, limit = PAGE) {
  const params = new URLSearchParams(SHOW[filter.show] || SHOW.desk);
  const bib = (filter.bib || "").trim();
  if (bib) {
    params.set("bib", bib);
    if (filter.chips) {
      params.set("chips", "true");
      // The athlete's times: chip reads beside the times entered by bib.
      const kind = params.get("kind");
      if (kind && kind.split(",").includes("manual")) params.set("kind", `${kind},read`);
    }
  }
  if (before !== null) params.set("before", String(before));
  params.set("limit", String(limit));
  return `/api/journal?${params}`;
}

/** The newest page merged into what is shown (which may reach further back): newest first,
 * each seq once. A full page that does not reach what is shown leaves a gap: start over. */
export function mergeNewest(shown, page, limit = PAGE) {
  if (!shown.length) return page;
  const newestShown = shown[0].seq;
  if (page.length >= limit && page[page.length - 1].seq > newestShown) return page;
  const bySeq = new Map(shown.map((entry) => [entry.seq, entry]));
  for (const entry of page) bySeq.set(entry.seq, entry);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq);
}

export function setupJournal(ctx) {
  const box = document.getElementById("journal-list");
  const filter = { show: "desk", bib: "", chips: false };
  let shown = [];
  let more = false;
  let generation = 0; // answers to an older filter are dropped
  let applied = ""; // the query of the filter shown

  // The choices' longest texts are wider than a phone: the select may shrink to the screen.
  const show = el("select", { id: "journal-show", style: "max-width:100%", onchange: () => { filter.show = show.value; restart(); } },
    ...["desk", "action", "manual", "read", "rejected", "all"].map((value) =>
      el("option", { value }, t(`journal_kind_${value}`))),
    el("optgroup", { label: t("journal_one_action") },
      ...ACTIONS.map((name) => el("option", { value: `action:${name}` }, t(`journal_action_${name}`)))));
  const bib = el("input", { id: "journal-bib", size: 8, autocomplete: "off", inputmode: "numeric" });
  const chips = el("input", { id: "journal-chips", type: "checkbox", disabled: true,
    style: "min-height:0;width:1.5em;height:1.5em;margin:0" });
  const list = el("ol", { class: "log journal-entries", style: "overflow-wrap:anywhere" });
  const message = el("p", { class: "muted", role: "status" });
  const older = el("button", { type: "button", id: "journal-older", hidden: true }, t("journal_older"));
  const form = el("form", { class: "row", autocomplete: "off", onsubmit: (event) => { event.preventDefault(); restart(); } },
    el("div", { class: "field", style: "max-width:100%" }, el("label", { for: "journal-show" }, t("journal_show")), show),
    el("div", { class: "field" }, el("label", { for: "journal-bib" }, t("journal_bib")), bib),
    el("label", { for: "journal-chips", style: "display:flex;align-items:center;gap:0.4em;min-height:44px" },
      chips, t("journal_with_chips")));
  box.replaceChildren(form, list, message, older);

  // Typing waits for a pause; a filter applied meanwhile (another control) has taken the bib
  // already, and starting over again would drop the page "older" may be loading.
  const bibChanged = debounce(() => { if (journalPath(filter) !== applied) restart(); }, 400);
  bib.addEventListener("input", () => {
    filter.bib = bib.value;
    chips.disabled = !bib.value.trim();
    bibChanged();
  });
  chips.addEventListener("change", () => { filter.chips = chips.checked; restart(); });

  function render() {
    list.replaceChildren(...shown.map((entry) => el("li", { "data-seq": entry.seq },
      el("span", { class: "muted" }, `${entry.at_local ?? ""} · #${entry.seq}`), " ",
      el("span", { class: entry.kind === "rejected" ? "error" : null }, describeEntry(entry)))));
    older.hidden = !more;
    if (!shown.length) message.textContent = t("journal_none");
    else if (!more && message.className !== "error") message.textContent = "";
  }

  async function load(before) {
    const mine = generation;
    try {
      const page = await ctx.call(journalPath(filter, before));
      if (mine !== generation) return;
      message.className = "muted";
      if (before === null) {
        const first = !shown.length;
        shown = mergeNewest(shown, page);
        if (first || shown === page) more = page.length >= PAGE;
      } else {
        shown = [...shown, ...page.filter((entry) => entry.seq < before)];
        more = page.length >= PAGE;
        if (!page.length) message.textContent = t("journal_no_older");
      }
      render();
    } catch (error) {
      if (mine !== generation) return;
      message.className = "error";
      message.textContent = `${t("error")}: ${error.message}`;
    }
  }

  function restart() {
    generation += 1;
    applied = journalPath(filter);
    shown = [];
    more = false;
    message.textContent = "";
    load(null);
  }

  older.addEventListener("click", () => {
    if (shown.length) load(shown[shown.length - 1].seq);
  });
  const refresh = throttle(() => load(null), 1500);
  restart();
  return { refresh };
}
