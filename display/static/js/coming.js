// The announcer's "who is coming": athletes who passed the race's last split and have not
// finished, with the moment they are expected at the finish from their own pace. Pure.

/** The split points of a race in course order (the finish is last in race.points). */
export function splitPoints(race) {
  const points = race.points || [];
  return points.slice(0, Math.max(0, points.length - 1));
}

/** How much longer the whole race takes than reaching `point`: the median ratio among the
 * race's finishers, else the split's place in course order (evenly spaced splits assumed). */
export function finishRatio(race, point, rows) {
  const ratios = [];
  for (const row of rows) {
    const split = row.splits_ms && row.splits_ms[point];
    if (row.status === "FIN" && split > 0 && row.gun_ms > 0) ratios.push(row.gun_ms / split);
  }
  if (ratios.length) {
    ratios.sort((a, b) => a - b);
    return ratios[Math.floor(ratios.length / 2)];
  }
  const splits = splitPoints(race);
  const index = splits.indexOf(point);
  return index < 0 ? 2 : (splits.length + 1) / (index + 1);
}

/** [{row, point, expectedMs (from the origin), expectedAt (epoch ms), secondsAway}], soonest
 * first. `seenAt` maps bib -> the instant this page saw them pass the split (used when the
 * row has no start_ms). Athletes overdue by more than
 * `giveUpMs` are left out: they have probably stopped. */
export function comingList(race, rows, now, seenAt = new Map(), giveUpMs = 180000) {
  const splits = splitPoints(race);
  if (!splits.length) return [];
  const lastSplit = splits[splits.length - 1];
  const ratio = finishRatio(race, lastSplit, rows);
  const list = [];
  for (const row of rows) {
    if (row.status === "FIN" || row.status === "DQ" || row.finish_ms) continue;
    const split = row.splits_ms && row.splits_ms[lastSplit];
    if (!(split > 0)) continue;
    // Splits count from the athlete's own origin (start_ms: wave gun or chip start) when the
    // server gives it, else from the race's gun.
    const origin = row.start_ms ?? null;
    const passedAt = origin !== null ? origin + split
      : seenAt.get(row.bib) ?? (race.gun_ms !== null && race.gun_ms !== undefined ? race.gun_ms + split : null);
    if (passedAt === null || passedAt === undefined) continue;
    const expectedMs = Math.round(split * ratio);
    const expectedAt = passedAt + (expectedMs - split);
    if (now - expectedAt > giveUpMs) continue;
    list.push({ row, point: lastSplit, expectedMs, expectedAt,
      secondsAway: Math.round((expectedAt - now) / 1000) });
  }
  return list.sort((a, b) => a.expectedAt - b.expectedAt);
}

/** Places at a split within the race and within each category: Map bib -> {place, categoryPlace}. */
export function splitPlaces(rows, point) {
  const passed = rows.filter((row) => row.splits_ms && row.splits_ms[point] > 0)
    .sort((a, b) => a.splits_ms[point] - b.splits_ms[point]);
  const places = new Map();
  const perCategory = new Map();
  passed.forEach((row, index) => {
    const categoryPlace = (perCategory.get(row.category) || 0) + 1;
    perCategory.set(row.category, categoryPlace);
    places.set(row.bib, { place: index + 1, categoryPlace: row.category ? categoryPlace : null });
  });
  return places;
}

/** Things worth saying about an athlete: [{key, vars}] for i18n.t. */
export function talkingPoints(row, { splitPlace = null, expectedMs = null, records = [] } = {}) {
  const lines = [];
  if (row.status === "FIN") {
    if (row.place === 1) lines.push({ key: "say_wins_race", vars: {} });
    else if (row.gender_place === 1) lines.push({ key: `say_first_${row.gender}`, vars: {} });
    if (row.category && row.category_place === 1) {
      lines.push({ key: "say_wins_category", vars: { category: row.category } });
    }
    const beaten = records.find((record) => row.gun_ms !== null && row.gun_ms < record.ms);
    if (beaten) lines.push({ key: `say_record_${beaten.kind}`, vars: {} });
  } else {
    if (splitPlace && splitPlace.place === 1) lines.push({ key: "say_leads_race", vars: {} });
    else if (splitPlace && splitPlace.categoryPlace === 1 && row.category) {
      lines.push({ key: "say_leads_category", vars: { category: row.category } });
    }
    const beaten = records.find((record) => expectedMs !== null && expectedMs < record.ms);
    if (beaten) lines.push({ key: "say_record_pace", vars: {} });
  }
  if (row.club) lines.push({ key: "say_club", vars: { club: row.club } });
  return lines;
}
