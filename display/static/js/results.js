// Results of one race: filters by gender and category, search by name or bib, paging, live
// refresh; `print=1` shows every row for printing. The CSV link is the API's results.csv.
import { ordinal, t } from "./i18n.js";
import { api, el, fullName, showLiveStatus, shownTime, throttle } from "./page.js";
import { link, live } from "./spectate.js";

const PAGE = 100;

/** The time column. While the race runs, someone without a finish is usually still on the
 * course: the live list shows their last split ("half 1:35") and a dash for no passing yet;
 * the printed list gives the status in words. */
function statusCell(row, printing) {
  if (row.status === "FIN") return el("td", { class: "num time" }, shownTime(row));
  const word = t(`status_${row.status}`);
  if (printing || row.status === "DQ") return el("td", { class: "num time" }, word);
  const splits = Object.entries(row.splits_ms || {}).sort((a, b) => b[1] - a[1]);
  const shown = splits.length ? `${splits[0][0]} ${row[`split_${splits[0][0]}`] || ""}` : "–";
  return el("td", { class: "num muted", title: word }, shown,
    el("span", { class: "visually-hidden" }, ` (${word})`));
}

/** The printed list is the results file on paper: the club and the time penalty get columns
 * of their own there (`penalty` is the CSV's text, empty when none; the time includes it). On
 * a phone's screen the club goes back under the name, to leave the time room. */
function resultRow(row, printing) {
  const sub = [row.bib, row.category, printing ? "" : row.club].filter(Boolean).join(" · ");
  return el("tr", { "data-bib": row.bib },
    el("td", { class: "num" }, row.place ? ordinal(row.place) : ""),
    el("td", { class: "name" },
      el("a", { href: link({ bib: row.bib }) }, fullName(row)),
      el("span", { class: "sub" }, sub,
        printing && row.club ? el("span", { class: "narrow-only" }, ` · ${row.club}`) : "")),
    el("td", { class: "num wide-only" }, row.gender_place ? `${ordinal(row.gender_place)} ${row.gender}` : ""),
    el("td", { class: "wide-only" }, row.category
      ? `${row.category}${row.category_place ? " " + ordinal(row.category_place) : ""}` : ""),
    ...(printing ? [el("td", { class: "club wide-only" }, row.club || ""),
      el("td", { class: "num penalty" }, row.penalty ? `+${row.penalty}` : "")] : []),
    statusCell(row, printing));
}

function select(id, labelKey, options, value) {
  return el("div", { class: "field" },
    el("label", { for: id }, t(labelKey)),
    el("select", { id, name: id },
      ...options.map(([optionValue, text]) =>
        el("option", { value: optionValue, selected: optionValue === value }, text))));
}

export async function renderResults(view, race, event, params) {
  const printing = params.get("print") === "1";
  const filters = { gender: params.get("gender") || "", category: params.get("category") || "",
    q: params.get("q") || "" };
  let loaded = PAGE;
  let seq = null; // what the first answer is as of: the live feed starts there
  const tbody = el("tbody");
  const summary = el("p", { class: "muted", "aria-live": "polite" });
  const more = el("button", { type: "button", class: "more no-print" }, t("show_more"));
  const form = el("form", { class: "filters no-print", role: "search" },
    select("gender", "gender", [["", t("all")], ["F", t("gender_F")], ["M", t("gender_M")],
      ["X", t("gender_X")]], filters.gender),
    select("category", "category", [["", t("all")], ...(race.categories || []).map((c) => [c, c])],
      filters.category),
    el("div", { class: "field" }, el("label", { for: "q" }, t("name_or_bib")),
      el("input", { id: "q", name: "q", type: "search", value: filters.q, autocomplete: "off" })),
    el("button", { type: "submit", class: "primary" }, t("search")));
  const query = (offset, limit) => {
    const search = new URLSearchParams({ offset: String(offset), limit: String(limit) });
    for (const [name, value] of Object.entries(filters)) if (value) search.set(name, value);
    return `/api/races/${encodeURIComponent(race.id)}/results?${search}`;
  };
  const load = async () => {
    // The API gives at most 1000 rows a request: the print view pages through all of them.
    const want = printing ? Infinity : loaded;
    const rows = [];
    let total = 0;
    do {
      const page = await api(query(rows.length, Math.min(1000, want - rows.length)));
      total = page.total;
      if (seq === null) seq = page.seq;
      rows.push(...page.rows);
      if (!page.rows.length) break;
    } while (rows.length < Math.min(want, total));
    tbody.replaceChildren(...rows.map((row) => resultRow(row, printing)));
    summary.textContent = t("shown_of", { shown: rows.length, total });
    more.hidden = printing || rows.length >= total;
  };
  const own = { race: race.id, ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) };
  view.replaceChildren(
    el("div", { class: "print-head" }, el("strong", {}, event.name), ` · ${event.date}`),
    el("h2", {}, race.name),
    el("div", { class: printing ? "actions print-tools" : "actions no-print" },
      el("a", { href: `/api/races/${encodeURIComponent(race.id)}/results.csv`, download: `${race.id}.csv` },
        t("download_csv")),
      printing
        ? el("button", { type: "button", onclick: () => window.print() }, t("print"))
        : el("a", { href: link({ ...own, print: "1" }) }, t("print_view")),
      el("a", { href: printing ? link(own) : link({}) }, printing ? race.name : t("all_races"))),
    form, summary,
    el("table", { class: "results" },
      el("caption", { class: "visually-hidden" }, t("results_of", { race: race.name })),
      el("thead", {}, el("tr", {},
        el("th", { class: "num", scope: "col" }, t("place")),
        el("th", { scope: "col" }, t("name")),
        el("th", { class: "num wide-only", scope: "col" }, t("gender")),
        el("th", { class: "wide-only", scope: "col" }, t("category")),
        ...(printing ? [el("th", { class: "club wide-only", scope: "col" }, t("print_club")),
          el("th", { class: "num penalty", scope: "col" }, t("print_penalty"))] : []),
        el("th", { class: "num", scope: "col" }, t("time")))),
      tbody),
    more);
  if (printing) document.body.classList.add("print-view");
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    filters.gender = form.elements.gender.value;
    filters.category = form.elements.category.value;
    filters.q = form.elements.q.value.trim();
    loaded = PAGE;
    const next = { race: race.id, ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)) };
    history.replaceState(null, "", link(next));
    load();
  });
  for (const name of ["gender", "category"]) {
    form.elements[name].addEventListener("change", () => form.requestSubmit());
  }
  more.addEventListener("click", () => { loaded += PAGE; load(); });
  await load();
  if (!printing) {
    // A failed refresh (network away, 429 when too many ask at once) waits for the next change.
    const refresh = throttle(() => load().catch(() => {}), 2000);
    live([race.id], {
      onDelta: (message) => {
        if ((message.rows || []).some((row) => row.race === race.id)
          || (message.reload || []).includes(race.id)) refresh();
      },
      onSnapshot: () => refresh(),
      onStatus: showLiveStatus,
    }, seq);
  }
}
