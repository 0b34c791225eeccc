// Console: the journal of actions (who did what, when).
import { t } from "./i18n.js";
import { el, throttle } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

export function setupJournal(ctx) {
  const journalBox = document.getElementById("journal-list");
  const zone = ctx.event.timezone;
  const refreshJournal = throttle(async () => {
    try {
      const entries = await ctx.call("/api/journal?kind=action&limit=50");
      journalBox.replaceChildren(entries.length ? el("table", {},
        el("thead", {}, el("tr", {}, el("th", { class: "num" }, "#"), el("th", {}, t("when")),
          el("th", {}, t("who")), el("th", {}, t("what")))),
        el("tbody", {}, ...entries.map((entry) => el("tr", {},
          el("td", { class: "num" }, String(entry.seq)), el("td", {}, formatTimeOfDay(entry.at_ms, zone)),
          el("td", {}, entry.actor || ""), el("td", {}, entry.summary))))) :
        el("p", { class: "muted" }, t("no_actions")));
    } catch (error) {
      journalBox.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${error.message}`));
    }
  }, 1500);

  refreshJournal();
  return { refresh: refreshJournal };
}
