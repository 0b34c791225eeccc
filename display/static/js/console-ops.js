// Console: status and penalty changes previewed with ?dry_run=true before confirming, unknown
// chips to assign.
import { ordinal, t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

function changeRequest(form) {
  const bib = form.elements.bib.value.trim();
  const kind = form.elements.kind.value;
  const reason = form.elements.reason.value.trim();
  if (!bib || !reason) return { error: t("bib_and_reason_needed") };
  const base = `/api/athletes/${encodeURIComponent(bib)}`;
  if (kind === "penalty") {
    const seconds = Number(form.elements.seconds.value);
    if (!(seconds > 0)) return { error: t("penalty_needs_seconds") };
    return { path: `${base}/penalty`, body: { ms: Math.round(seconds * 1000), reason } };
  }
  return { path: `${base}/status`, body: { status: kind === "clear" ? null : kind, reason } };
}

function placeText(side) {
  if (!side) return "";
  const parts = [side.status || ""];
  if (side.place) parts.push(ordinal(side.place));
  if (side.category_place) parts.push(`(${t("category")} ${ordinal(side.category_place)})`);
  if (side.time) parts.push(side.time);
  return parts.filter(Boolean).join(" ");
}

/** A dry run's answer as nodes: how many would change (or `heading`), and who, before and
 * after (places, status, time). Shared by every preview of the console. */
export function previewTable(changes, heading = t("preview_count", { n: changes.length })) {
  return [el("p", {}, heading),
    changes.length ? el("table", { class: "preview" },
      el("thead", {}, el("tr", {}, el("th", {}, t("bib_short")), el("th", {}, t("name")),
        el("th", {}, t("before")), el("th", {}, t("after")))),
      el("tbody", {}, ...changes.map((change) => el("tr", {},
        el("td", {}, change.bib), el("td", {}, change.name || ""),
        el("td", {}, placeText(change.before)), el("td", {}, placeText(change.after)))))) : ""];
}

export function setupChanges(ctx) {
  const form = document.getElementById("change-form");
  const confirm = document.getElementById("change-confirm");
  const preview = document.getElementById("change-preview");
  let previewed = null;

  const invalidate = () => { previewed = null; confirm.disabled = true; };
  form.addEventListener("input", invalidate);
  form.addEventListener("change", invalidate);
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const request = changeRequest(form);
    if (request.error) {
      preview.replaceChildren(el("p", { class: "error", role: "alert" }, request.error));
      return;
    }
    try {
      const answer = await ctx.call(`${request.path}?dry_run=true`, { method: "POST", body: request.body });
      preview.replaceChildren(...previewTable(answer.changes || []));
      previewed = request;
      confirm.disabled = false;
      confirm.focus();
    } catch (error) {
      preview.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
    }
  });
  confirm.addEventListener("click", async () => {
    if (!previewed) return;
    const request = previewed;
    invalidate();
    try {
      await ctx.call(request.path, { method: "POST", body: request.body });
      preview.replaceChildren(el("p", { class: "ok", role: "status" }, t("change_done")));
      form.reset();
      form.elements.bib.focus();
    } catch (error) {
      preview.replaceChildren(el("p", { class: "error", role: "alert" }, `${t("error")}: ${error.message}`));
    }
  });
}

export function setupChips(ctx) {
  const box = document.getElementById("chip-list");
  async function refresh() {
    let chips;
    try {
      chips = await ctx.call("/api/unknown-chips");
    } catch (error) {
      box.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${error.message}`));
      return;
    }
    if (box.contains(document.activeElement)) return; // do not yank a field being typed in
    if (!chips.length) {
      box.replaceChildren(el("p", { class: "muted" }, t("no_unknown_chips")));
      return;
    }
    box.replaceChildren(el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, t("chip")), el("th", { class: "num" }, t("reads")),
        el("th", {}, t("first_read")), el("th", {}, t("last_read")), el("th", {}, t("readers")),
        el("th", {}, t("assign_to_bib")))),
      el("tbody", {}, ...chips.map((chip) => {
        const input = el("input", { size: "6", "aria-label": t("bib_for_chip", { chip: chip.chip }) });
        const note = el("span", { role: "status" });
        const assign = async (submitted) => {
          submitted.preventDefault();
          if (!input.value.trim()) return;
          try {
            await ctx.call("/api/chips", { method: "POST", body: { chip: chip.chip, bib: input.value.trim() } });
            note.textContent = t("assigned");
            input.blur();
            setTimeout(refresh, 500);
          } catch (error) {
            note.textContent = `${t("error")}: ${error.message}`;
          }
        };
        return el("tr", {}, el("td", {}, chip.chip), el("td", { class: "num" }, String(chip.reads)),
          el("td", {}, formatTimeOfDay(chip.first_ms, ctx.event.timezone)),
          el("td", {}, formatTimeOfDay(chip.last_ms, ctx.event.timezone)),
          el("td", {}, (chip.readers || []).join(", ")),
          el("td", {}, el("form", { class: "row", onsubmit: assign }, input,
            el("button", { type: "submit" }, t("assign")), note)));
      }))));
  }
  refresh();
  return { refresh };
}
