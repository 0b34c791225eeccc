// Console: the alarm bar (#alarms). The server decides what is an alarm (GET /api/alarms:
// docs/operations.md, "Alarms"); this shows each with its cause, since when and what clears
// it, and an Acknowledge button. Acknowledged ones leave the bar for a small note that opens.
import { t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

const TITLES = {
  link: "alarm_title_link", storage: "alarm_title_storage", clock: "alarm_title_clock",
  drift: "alarm_title_drift", quiet: "alarm_title_quiet",
};
const CLEARS = {
  link: "alarm_clears_link", storage: "alarm_clears_storage", clock: "alarm_clears_clock",
  drift: "alarm_clears_drift", quiet: "alarm_clears_quiet", quarantined: "alarm_clears_quarantined",
};
/** Kinds whose headline says it all; the others add the server's own words (the link's error). */
const SELF_EXPLAINED = new Set(["drift", "quiet", "quarantined"]);

/** What is wrong, in the page's language. */
export function alarmHeadline(alarm, now) {
  if (alarm.kind === "quarantined") {
    const details = alarm.details || {};
    return t("alarm_quarantined", { seq: alarm.subject, summary: details.summary ?? "", error: details.error ?? "" });
  }
  const key = TITLES[alarm.kind];
  if (!key) return `${t("reader")} ${alarm.subject}: ${alarm.cause}`;
  const seconds = alarm.measure === null || alarm.measure === undefined ? "?" : (alarm.measure / 1000).toFixed(1);
  const minutes = alarm.since_ms ? Math.max(0, Math.floor((now - alarm.since_ms) / 60000)) : "?";
  return t(key, { reader: alarm.subject, seconds, minutes });
}

/** The server's own account of the cause, where the headline does not already give it. */
export function alarmDetail(alarm) {
  return !TITLES[alarm.kind] || SELF_EXPLAINED.has(alarm.kind) ? null : alarm.cause;
}

/** What clears it: our words for the kinds we know, else the server's. */
export function alarmClears(alarm) {
  return CLEARS[alarm.kind] ? t(CLEARS[alarm.kind]) : alarm.clear_when || "";
}

/** {open, acknowledged}: the bar shows the first; the second only as a count that opens. */
export function splitAlarms(alarms) {
  return {
    open: alarms.filter((alarm) => !alarm.acknowledged),
    acknowledged: alarms.filter((alarm) => alarm.acknowledged),
  };
}

/**
 * Fill `box` with `alarms`. `onAcknowledge(alarm)` is called by an alarm's button (omitted:
 * no buttons, e.g. a web-only server's readers). `failure`: a message to show (or null).
 */
export function showAlarmBar(box, alarms, { zone, now, onAcknowledge = null, failure = null }) {
  const { open, acknowledged } = splitAlarms(alarms);
  const wasOpen = box.querySelector("details")?.open || false;
  box.hidden = alarms.length === 0 && !failure;
  box.classList.toggle("settled", open.length === 0);  // only acknowledged ones: not red
  const item = (alarm) => {
    const headline = alarmHeadline(alarm, now);
    const detail = alarmDetail(alarm);
    const since = alarm.since_ms ? t("alarm_since", { time: formatTimeOfDay(alarm.since_ms, zone) }) : "";
    return el("li", { class: "alarm-item", "data-alarm": alarm.id },
      el("div", { class: "alarm-text" },
        el("span", { class: "alarm-headline" }, headline),
        detail ? el("span", { class: "alarm-cause" }, detail) : null,
        el("span", { class: "alarm-meta" }, [since, alarmClears(alarm)].filter(Boolean).join(" · "))),
      onAcknowledge ? el("button", {
        type: "button", class: "alarm-ack", "aria-label": t("alarm_acknowledge_label", { alarm: headline }),
        onclick: (event) => { event.currentTarget.disabled = true; onAcknowledge(alarm); },
      }, t("alarm_acknowledge")) : null);
  };
  const seen = (alarm) => el("li", { "data-alarm": alarm.id },
    el("span", {}, alarmHeadline(alarm, now)), " — ",
    el("span", { class: "alarm-meta" }, t("alarm_acknowledged_by", {
      by: alarm.acknowledged.by, time: formatTimeOfDay(alarm.acknowledged.at_ms, zone) })));
  box.replaceChildren(
    failure ? el("p", { class: "alarm-failure" }, failure) : "",
    open.length ? el("ul", { class: "alarm-list" }, ...open.map(item)) : "",
    acknowledged.length ? el("details", { class: "alarm-seen", open: wasOpen },
      el("summary", {}, t("alarm_acknowledged_n", { n: acknowledged.length })),
      el("p", { class: "alarm-meta" }, t("alarm_ack_hint")),
      el("ul", {}, ...acknowledged.map(seen))) : "");
}
