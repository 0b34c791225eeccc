// Console: the gun panel (press, then confirm: the instant of the first press is sent).
import { t } from "./i18n.js";
import { el } from "./page.js";
import { formatTimeOfDay } from "./timefmt.js";

export function setupGun(ctx) {
  const box = document.getElementById("gun-list");
  const armed = new Map(); // "race/wave" -> the instant of the first press

  const gunText = (ms) => (ms === null || ms === undefined
    ? t("gun_not_fired") : t("gun_at", { time: formatTimeOfDay(ms, ctx.event.timezone) }));

  function line(race, wave) {
    const key = `${race.id}/${wave ? wave.id : ""}`;
    const label = wave ? `${race.name} · ${t("wave")} ${wave.id}` : race.name;
    const gunMs = wave ? wave.gun_ms : race.gun_ms;
    const status = el("span", { class: "muted" }, gunText(gunMs));
    const controls = el("span", { class: "row" });
    const show = () => {
      const at = armed.get(key);
      if (at === undefined) {
        controls.replaceChildren(el("button", { type: "button", class: "primary",
          "aria-label": t("fire_gun_for", { name: label }),
          onclick: () => { armed.set(key, ctx.now()); show(); controls.querySelector(".danger").focus(); } },
        t("fire_gun")));
        return;
      }
      controls.replaceChildren(
        el("button", { type: "button", class: "danger", onclick: async () => {
          try {
            await ctx.call(`/api/races/${encodeURIComponent(race.id)}/gun`, { method: "POST",
              body: { time_ms: at, wave: wave ? wave.id : null } });
            armed.delete(key);
            await refresh();
          } catch (error) {
            status.textContent = `${t("error")}: ${error.message}`;
          }
        } }, t("confirm_gun", { time: formatTimeOfDay(at, ctx.event.timezone) })),
        el("button", { type: "button", onclick: () => { armed.delete(key); show(); } }, t("cancel")));
    };
    show();
    return el("div", { class: "gun-race" }, el("span", { class: "name" }, label), status, controls);
  }

  async function refresh() {
    const races = await ctx.refreshRaces();
    box.replaceChildren(...races.flatMap((race) => [line(race, null),
      ...(race.waves || []).map((wave) => line(race, wave))]));
  }
  box.replaceChildren(...ctx.races.flatMap((race) => [line(race, null),
    ...(race.waves || []).map((wave) => line(race, wave))]));
  return { refresh };
}
