// Console: reader health (connected, reads/s, clock drift) and journal entries set aside
// (GET /api/quarantined), as alarms at the top of the page.
import { t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

const STALE_READS_MS = 5 * 60 * 1000;
const DRIFT_ALARM_MS = 1000;

/** Why a reader needs attention, or null: the server's alarm first, then our own checks. */
export function readerAlarm(reader, now) {
  if (reader.alarm) return reader.alarm;
  // A hand-timing "reader" is people with a keyboard: not being connected is normal.
  if (!reader.connected && reader.format !== "manual") return t("alarm_disconnected");
  if (reader.drift_ms !== null && reader.drift_ms !== undefined && Math.abs(reader.drift_ms) > DRIFT_ALARM_MS) {
    return t("alarm_drift", { seconds: (reader.drift_ms / 1000).toFixed(1) });
  }
  if (reader.last_read_ms && now - reader.last_read_ms > STALE_READS_MS) return t("alarm_quiet");
  return null;
}

export function setupHealth(ctx) {
  const readerBox = document.getElementById("reader-list");
  const alarms = document.getElementById("alarms");
  const zone = ctx.event.timezone;
  let readerAlarms = [];
  let setAside = [];

  function showAlarms() {
    const items = [...readerAlarms, ...setAside.map((entry) => t("alarm_quarantined", entry))];
    alarms.hidden = items.length === 0;
    alarms.replaceChildren(el("ul", {}, ...items.map((text) => el("li", {}, text))));
  }

  function showReaders(readers) {
    const now = ctx.now();
    const rows = readers.map((reader) => ({ reader, alarm: readerAlarm(reader, now) }));
    readerBox.replaceChildren(readers.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["reader", "point", "transport", "connected", "reads_per_s",
        "reads", "duplicates", "rejected", "drift", "last_read", "alarm"].map((key) =>
        el("th", { scope: "col" }, t(key))))),
      el("tbody", {}, ...rows.map(({ reader, alarm }) => el("tr", { class: alarm ? "alarm" : null },
        el("td", {}, reader.id), el("td", {}, reader.point), el("td", {}, reader.transport),
        el("td", {}, reader.connected ? t("yes") : t("no")),
        el("td", { class: "num" }, Number(reader.reads_per_s || 0).toFixed(1)),
        el("td", { class: "num" }, String(reader.reads)),
        el("td", { class: "num" }, String(reader.duplicates)),
        el("td", { class: "num" }, String(reader.rejected)),
        el("td", { class: "num" }, reader.drift_ms === null || reader.drift_ms === undefined
          ? "" : `${(reader.drift_ms / 1000).toFixed(2)} s`),
        el("td", {}, formatTimeOfDay(reader.last_read_ms, zone)),
        el("td", {}, alarm || ""))))) : el("p", { class: "muted" }, t("no_readers")));
    readerAlarms = rows.filter((row) => row.alarm)
      .map(({ reader, alarm }) => `${t("reader")} ${reader.id}: ${alarm}`);
    showAlarms();
  }

  /** Journal entries the core could not apply (docs/operations.md): an alarm until voided. */
  async function loadQuarantined() {
    try {
      setAside = await ctx.call("/api/quarantined");
    } catch {
      setAside = [];  // a web-only process has no core to ask: the readers' alarms still show
    }
    showAlarms();
  }

  async function loadReaders() {
    try {
      showReaders(await ctx.call("/api/readers"));
    } catch (error) {
      readerBox.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${error.message}`));
    }
  }

  loadReaders();
  loadQuarantined();
  setInterval(loadReaders, 15000);
  setInterval(loadQuarantined, 15000);
  return { showReaders };
}
