// What every page shares: language set-up, a tiny element builder, JSON fetches with a token,
// the connection indicator.
import {
  buildLanguageSwitch, chooseLanguage, setLanguage, storedLanguage, t, translatePage,
} from "./i18n.js";

export function initPage(titleKey) {
  const language = chooseLanguage(location.search, storedLanguage(localStorage), navigator.languages);
  setLanguage(language);
  translatePage(document);
  if (titleKey) document.title = `${t(titleKey)} · Gambero`;
  const switcher = document.getElementById("lang-switch");
  if (switcher) buildLanguageSwitch(switcher, location, localStorage);
  return language;
}

/** el("td", {class: "x", "aria-label": "y"}, "text", childNode) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

export async function api(path, { method = "GET", body = undefined, token = null } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  let payload = null;
  try { payload = await response.json(); } catch (_error) { payload = null; }
  if (!response.ok) {
    const detail = payload && payload.detail
      ? (typeof payload.detail === "string" ? payload.detail : JSON.stringify(payload.detail))
      : `HTTP ${response.status}`;
    throw new ApiError(response.status, detail);
  }
  return payload;
}

/** Show the websocket state in the element #live-status (polite, for screen readers too). */
export function showLiveStatus(status) {
  const node = document.getElementById("live-status");
  if (!node) return;
  node.dataset.state = status;
  node.textContent = t(`live_${status}`);
}

export function fullName(row) {
  return `${row.first_name || ""} ${row.last_name || ""}`.trim();
}

/** The official time shown for a row: gun time, else chip time. */
export function shownTime(row) {
  return row.gun_time || row.chip_time || "";
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => { timer = null; fn(...args); }, ms);
  };
}

/** Call `fn` at most once per `ms`, trailing call guaranteed. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (timer === null) {
      timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
    }
  };
}

/** Races and their live results: REST for the start, the websocket for what changes. */
export async function loadRaces() {
  return api("/api/races");
}

export async function loadAllRows(raceId) {
  const rows = [];
  let offset = 0;
  for (;;) {
    const page = await api(`/api/races/${encodeURIComponent(raceId)}/results?offset=${offset}&limit=500`);
    rows.push(...page.rows);
    offset += page.rows.length;
    if (page.rows.length === 0 || offset >= page.total) return rows;
  }
}

/** How far this device's clock is behind the server's (ms), from the HTTP Date header; 0
 * when within 1.5 s (the header has whole seconds) or unknown. Race clocks add it to now. */
export async function serverClockOffset() {
  try {
    const before = Date.now();
    const response = await fetch("/api/health", { cache: "no-store" });
    const after = Date.now();
    const date = Date.parse(response.headers.get("Date") || "");
    if (!date) return 0;
    const offset = date + 500 - (before + after) / 2;
    return Math.abs(offset) > 1500 ? Math.round(offset) : 0;
  } catch (_error) {
    return 0;
  }
}
