// Console: reader health (state, reads/s, clock drift) and the server's alarms (GET /api/alarms)
// in the bar at the top of the page, each acknowledged there (console-alarms.js).
import { showAlarmBar } from "./console-alarms.js";
import { t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

const ALARMS_EVERY_MS = 5000;

/** A reader's state in words: a recording replayed whole is "done", not disconnected; a
 * reader that posts its reads (hand timing, a forwarder) and has not lately is only idle. */
export function stateText(reader) {
  const state = reader.state || (reader.connected ? "connected" : "disconnected");
  if (state === "disconnected" && reader.transport === "ingest") return t("reader_state_idle");
  return t(`reader_state_${state}`);
}

/** What changes a reader's alarms: when it differs from the last health message, ask again. */
export function alarmSignature(readers) {
  return readers.map((reader) => `${reader.id}:${reader.state}:${Object.keys(reader.causes || {}).sort()}`).join("|");
}

/** A web-only server has no alarms to give: its readers' own alarm texts, not acknowledgeable. */
export function fallbackAlarms(readers) {
  return readers.filter((reader) => reader.alarm).map((reader) => ({
    id: `reader:${reader.id}`, kind: "reader", subject: reader.id, cause: reader.alarm,
    since_ms: reader.since_ms, clear_when: "", measure: null, acknowledged: null,
  }));
}

export function setupHealth(ctx) {
  const readerBox = document.getElementById("reader-list");
  const bar = document.getElementById("alarms");
  const zone = ctx.event.timezone;
  let readers = [];
  let alarms = [];
  let served = true;  // the server answers GET /api/alarms (a web-only one does not)
  let failure = null;
  let signature = "";
  let drawn = "";

  function showAlarms() {
    const shown = served ? alarms : fallbackAlarms(readers);
    const now = ctx.now();
    // Drawn again only when something shown changes (a quiet reader's minutes too): the bar
    // is an alert region, and a button replaced under a finger or the focus is lost.
    const key = JSON.stringify([shown, failure, served, Math.floor(now / 60000)]);
    if (key !== drawn) {
      drawn = key;
      showAlarmBar(bar, shown, { zone, now, onAcknowledge: served ? acknowledge : null, failure });
    }
    showReaders(readers);
  }

  async function loadAlarms() {
    try {
      alarms = await ctx.call("/api/alarms");
      served = true;
    } catch (error) {
      served = error.status !== 503;
      if (!served) alarms = [];
    }
    showAlarms();
  }

  async function acknowledge(alarm) {
    try {
      await ctx.call(`/api/alarms/${encodeURIComponent(alarm.id)}/acknowledge`, { method: "POST", body: {} });
      failure = null;
    } catch (error) {
      // 409: someone else acknowledged it, or it cleared meanwhile: the list says which.
      failure = error.status === 409 ? null : t("alarm_ack_failed", { error: error.message });
    }
    drawn = "";  // its button comes back enabled if the alarm is still there
    await loadAlarms();
  }

  function showReaders(list) {
    const open = new Set(alarms.filter((alarm) => !alarm.acknowledged).map((alarm) => String(alarm.subject)));
    readerBox.replaceChildren(list.length ? el("table", {},
      el("thead", {}, el("tr", {}, ...["reader", "point", "transport", "reader_state", "reads_per_s",
        "reads", "duplicates", "rejected", "drift", "last_read", "alarm"].map((key) =>
        el("th", { scope: "col" }, t(key))))),
      el("tbody", {}, ...list.map((reader) => el("tr", { class: open.has(reader.id) ? "alarm" : null },
        el("td", {}, reader.id), el("td", {}, reader.point), el("td", {}, reader.transport),
        el("td", {}, stateText(reader)),
        el("td", { class: "num" }, Number(reader.reads_per_s || 0).toFixed(1)),
        el("td", { class: "num" }, String(reader.reads)),
        el("td", { class: "num" }, String(reader.duplicates)),
        el("td", { class: "num" }, String(reader.rejected)),
        el("td", { class: "num" }, reader.drift_ms === null || reader.drift_ms === undefined
          ? "" : `${(reader.drift_ms / 1000).toFixed(2)} s`),
        el("td", {}, formatTimeOfDay(reader.last_read_ms, zone)),
        el("td", {}, reader.alarm || ""))))) : el("p", { class: "muted" }, t("no_readers")));
  }

  /** Each health message (websocket, every second) or poll: a change in state asks again. */
  function takeReaders(list) {
    readers = list;
    const now = alarmSignature(list);
    if (now !== signature) {
      signature = now;
      loadAlarms();
    } else {
      showAlarms();
    }
  }

  async function loadReaders() {
    try {
      takeReaders(await ctx.call("/api/readers"));
    } catch (error) {
      readerBox.replaceChildren(el("p", { class: "error" }, `${t("error")}: ${error.message}`));
    }
  }

  loadReaders();
  loadAlarms();
  setInterval(loadReaders, 15000);
  setInterval(loadAlarms, ALARMS_EVERY_MS);
  return { showReaders: takeReaders, refreshAlarms: loadAlarms };
}
