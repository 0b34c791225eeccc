// Languages: English, Italian, German. `?lang=` forces one; otherwise the visitor's last choice
// from the switch, then the browser's languages, then English. <html lang> always says which.
import { STRINGS } from "./strings.js";

export const LANGUAGES = ["en", "it", "de"];
export const LANGUAGE_NAMES = { en: "English", it: "Italiano", de: "Deutsch" };
const STORAGE_KEY = "gambero.lang";

let current = "en";

export function chooseLanguage(search, stored, browserLanguages) {
  const forced = new URLSearchParams(search || "").get("lang");
  if (forced && LANGUAGES.includes(forced.toLowerCase())) return forced.toLowerCase();
  if (stored && LANGUAGES.includes(stored)) return stored;
  for (const tag of browserLanguages || []) {
    const primary = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES.includes(primary)) return primary;
  }
  return "en";
}

export function setLanguage(language) {
  current = LANGUAGES.includes(language) ? language : "en";
  if (typeof document !== "undefined") document.documentElement.lang = current;
  return current;
}

export function language() {
  return current;
}

/** The text for `key` in the current language, `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** A place as the language writes it: 1st / 1° / 1. */
export function ordinal(place) {
  if (place === null || place === undefined || place === "") return "";
  const n = Number(place);
  if (current === "it") return `${n}°`;
  if (current === "de") return `${n}.`;
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return `${n}${suffix}`;
}

/** Fill every [data-i18n*] element under `root` with the current language's text. */
export function translatePage(root) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-label]")) {
    node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  }
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) {
    node.setAttribute("placeholder", t(node.dataset.i18nPlaceholder));
  }
  for (const node of root.querySelectorAll("[data-i18n-title]")) {
    node.setAttribute("title", t(node.dataset.i18nTitle));
  }
}

/** Links to this same page in each language (stable URLs, keyboard reachable). */
export function buildLanguageSwitch(container, location, storage) {
  container.replaceChildren();
  container.setAttribute("aria-label", t("language"));
  for (const code of LANGUAGES) {
    const params = new URLSearchParams(location.search);
    params.set("lang", code);
    const link = document.createElement("a");
    link.href = `${location.pathname}?${params}${location.hash || ""}`;
    link.textContent = code.toUpperCase();
    link.lang = code;
    link.title = LANGUAGE_NAMES[code];
    link.setAttribute("aria-label", LANGUAGE_NAMES[code]);
    link.className = "lang-link";
    if (code === current) link.setAttribute("aria-current", "true");
    link.addEventListener("click", () => {
      try { storage.setItem(STORAGE_KEY, code); } catch (_error) { /* private mode */ }
    });
    container.append(link);
  }
}

export function storedLanguage(storage) {
  try { return storage.getItem(STORAGE_KEY); } catch (_error) { return null; }
}
