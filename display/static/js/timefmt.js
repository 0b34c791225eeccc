// Times as the results CSV shows them: `[H:]M:SS[.f]`, rounded UP to the race precision
// (docs/scoring.md rule 6: 6:39.001 shows as 6:40). Pure functions, no DOM.

export function roundUp(ms, precisionMs) {
  return Math.ceil(ms / precisionMs) * precisionMs;
}

function pad2(n) {
  return n < 10 ? "0" + n : String(n);
}

/** `6:40`, `1:02:03`, `6:39.4` (precisionMs 100), `6:39.42` (10). */
export function formatDuration(ms, precisionMs = 1000) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "";
  let rounded = roundUp(ms, precisionMs);
  const sign = rounded < 0 ? "-" : "";
  rounded = Math.abs(rounded);
  const millis = rounded % 1000;
  let seconds = Math.floor(rounded / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  let text = hours ? `${hours}:${pad2(minutes)}:${pad2(seconds)}` : `${minutes}:${pad2(seconds)}`;
  if (precisionMs < 1000) {
    const digits = { 100: 1, 10: 2, 1: 3 }[precisionMs];
    text += "." + String(millis).padStart(3, "0").slice(0, digits);
  }
  return sign + text;
}

/** The running race clock: whole seconds elapsed (truncated, as a clock ticks), `H:MM:SS`
 * once past an hour. Before the gun it shows nothing. */
export function formatClock(elapsedMs) {
  if (elapsedMs === null || elapsedMs === undefined || elapsedMs < 0) return "";
  const total = Math.floor(elapsedMs / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours ? `${hours}:${pad2(minutes)}:${pad2(seconds)}` : `${minutes}:${pad2(seconds)}`;
}

/** Pace for `distanceM` metres covered in `ms`, per `unitM` metres (1000 or 1609.344). */
export function pace(ms, distanceM, unitM) {
  if (!ms || !distanceM || distanceM <= 0) return "";
  return formatDuration((ms * unitM) / distanceM, 1000);
}

/** Parse `6:40`, `1:02:03`, `6:39.4` back into ms; null when the text is not a time. */
export function parseDuration(text) {
  const match = /^\s*(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d{1,3}))?\s*$/.exec(text || "");
  if (!match) return null;
  const [, h, m, s, frac] = match;
  if (Number(s) > 59 || (h !== undefined && Number(m) > 59)) return null;
  const ms = frac ? Number(frac.padEnd(3, "0")) : 0;
  return ((Number(h || 0) * 60 + Number(m)) * 60 + Number(s)) * 1000 + ms;
}

/** The time of day of an epoch-ms instant in the event's time zone, `HH:MM:SS.f`. */
export function formatTimeOfDay(epochMs, timeZone) {
  if (epochMs === null || epochMs === undefined) return "";
  const options = { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  if (timeZone) options.timeZone = timeZone;
  let text;
  try {
    text = new Intl.DateTimeFormat("en-GB", options).format(new Date(epochMs));
  } catch (_error) {
    delete options.timeZone;
    text = new Intl.DateTimeFormat("en-GB", options).format(new Date(epochMs));
  }
  return `${text}.${Math.floor((((epochMs % 1000) + 1000) % 1000) / 100)}`;
}

function zoneParts(epochMs, timeZone) {
  const parts = {};
  const format = new Intl.DateTimeFormat("en-GB", { timeZone, hourCycle: "h23", year: "numeric",
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  for (const part of format.formatToParts(new Date(epochMs))) parts[part.type] = Number(part.value);
  return parts;
}

/** How far the zone's wall clock is ahead of UTC at `epochMs`. */
function zoneOffset(epochMs, timeZone) {
  const p = zoneParts(epochMs, timeZone);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(epochMs / 1000) * 1000;
}

/** `HH:MM:SS[.f]` typed by a timekeeper, on the day `referenceMs` falls on in `timeZone`, as
 * epoch ms; null when it is not a time of day. */
export function parseTimeOfDay(text, timeZone, referenceMs) {
  const match = /^\s*(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,3}))?\s*$/.exec(text || "");
  if (!match) return null;
  const [hour, minute, second] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (hour > 23 || minute > 59 || second > 59) return null;
  const millis = match[4] ? Number(match[4].padEnd(3, "0")) : 0;
  const day = zoneParts(referenceMs, timeZone || "UTC");
  const wall = Date.UTC(day.year, day.month - 1, day.day, hour, minute, second, millis);
  let epoch = wall - zoneOffset(wall, timeZone || "UTC");
  epoch = wall - zoneOffset(epoch, timeZone || "UTC"); // right across a daylight-saving change
  return epoch;
}
