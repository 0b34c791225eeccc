// The timekeeper console: token login, then gun, bib entry, hand timing, status and
// penalties with a preview, unknown chips, reader health with alarms, the action journal.
// The token stays in this tab (sessionStorage) until "log out".
import { setupCorrections } from "./console-desk.js";
import { setupEntry, setupHand } from "./console-entry.js";
import { setupHealth } from "./console-health.js";
import { setupGun } from "./console-gun.js";
import { setupJournal } from "./console-journal.js";
import { setupChanges, setupChips } from "./console-ops.js";
import { setupPeople } from "./console-people.js";
import { t } from "./i18n.js";
import { LiveClient } from "./live.js";
import { api, initPage, loadRaces, serverClockOffset, showLiveStatus } from "./page.js";

const TOKEN_KEY = "gambero.token";

function storedToken() {
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (_error) { return null; }
}

async function login(token) {
  const who = await api("/api/auth/whoami", { token });
  if (who.role !== "timekeeper" && who.role !== "admin") throw new Error(t("role_too_weak"));
  return who;
}

async function openDesk(token, who) {
  document.getElementById("login").hidden = true;
  document.getElementById("who").textContent = t("logged_in_as", { role: who.role });
  const [event, races, clockOffset] = await Promise.all([api("/api/event"), loadRaces(), serverClockOffset()]);
  document.getElementById("event-name").textContent = event.name;
  document.getElementById("clock-note").textContent = clockOffset
    ? t("clock_offset", { seconds: (clockOffset / 1000).toFixed(1) }) : "";
  const ctx = {
    token, event, races, clockOffset,
    now: () => Date.now() + clockOffset,
    call: (path, options = {}) => api(path, { ...options, token }),
    refreshRaces: async () => { ctx.races = await loadRaces(); return ctx.races; },
  };
  const gun = setupGun(ctx);
  const corrections = setupCorrections(ctx);
  ctx.onUnknown = () => corrections.refreshUnknown();
  setupEntry(ctx);
  setupHand(ctx);
  setupChanges(ctx);
  const chips = setupChips(ctx);
  setupPeople(ctx);
  const health = setupHealth(ctx);
  const journal = setupJournal(ctx);
  const client = new LiveClient({
    location, token,
    onSnapshot: () => { journal.refresh(); },
    onDelta: (message) => {
      journal.refresh();
      if (message.reload && message.reload.length) gun.refresh();
    },
    onHealth: (message) => health.showReaders(message.readers || []),
    onStatus: showLiveStatus,
  });
  client.start();
  window.gamberoLive = client;
  addEventListener("online", () => client.reconnectNow());
  setInterval(() => { chips.refresh(); }, 10000);
  // Shown only now that every form has its handler: a bib typed and entered before would
  // have submitted the form as a page load (the entry lost, the page reloaded).
  document.getElementById("desk").hidden = false;
  document.getElementById("entry-bib").focus();
}

function showLogin(message = "") {
  document.getElementById("login").hidden = false;
  document.getElementById("desk").hidden = true;
  document.getElementById("login-error").textContent = message;
  document.getElementById("token").focus();
}

async function main() {
  initPage("console");
  const event = await api("/api/event");
  document.getElementById("event-name").textContent = event.name;
  document.getElementById("login-form").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const token = document.getElementById("token").value.trim();
    try {
      const who = await login(token);
      try { sessionStorage.setItem(TOKEN_KEY, token); } catch (_error) { /* private mode */ }
      document.getElementById("token").value = "";
      await openDesk(token, who);
    } catch (error) {
      showLogin(error.status === 401 ? t("token_invalid") : error.message);
    }
  });
  document.getElementById("logout").addEventListener("click", () => {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (_error) { /* private mode */ }
    location.reload();
  });
  const token = storedToken();
  if (!token) return showLogin();
  try {
    await openDesk(token, await login(token));
  } catch (error) {
    showLogin(error.status === 401 ? t("token_invalid") : error.message);
  }
}

main().catch((error) => showLogin(`${t("error")}: ${error.message}`));
