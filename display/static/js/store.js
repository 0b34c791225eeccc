// The live results of the races a page follows: filled by a websocket snapshot, kept current
// by deltas, or reloaded race by race from the REST API. Pure state, no DOM.

export class ResultsStore {
  constructor() {
    this.races = new Map(); // race id -> { gun_ms, rows: Map(bib -> row) }
  }

  race(raceId) {
    let race = this.races.get(raceId);
    if (!race) {
      race = { gun_ms: null, waves: [], rows: new Map() };
      this.races.set(raceId, race);
    }
    return race;
  }

  applySnapshot(message) {
    this.races.clear();
    for (const [raceId, race] of Object.entries(message.races || {})) {
      this.setRace(raceId, race.rows || [], race.gun_ms ?? null, race.waves || []);
    }
  }

  setRace(raceId, rows, gunMs, waves = []) {
    const race = this.race(raceId);
    race.gun_ms = gunMs;
    race.waves = waves;
    race.rows = new Map();
    for (const row of rows) {
      this._forget(row.bib, raceId);
      race.rows.set(row.bib, row);
    }
  }

  /** Apply a delta's rows; returns what each changed row newly passed
   * ([{row, before, passings: [{kind: "finish"|"split", point}]}]). */
  applyDelta(message) {
    const changes = [];
    for (const row of message.rows || []) {
      const before = this.find(row.bib);
      this._forget(row.bib, row.race);
      this.race(row.race).rows.set(row.bib, row);
      changes.push({ row, before, passings: newPassings(before, row) });
    }
    return changes;
  }

  find(bib) {
    for (const race of this.races.values()) {
      const row = race.rows.get(bib);
      if (row) return row;
    }
    return null;
  }

  rows(raceId) {
    const race = this.races.get(raceId);
    return race ? [...race.rows.values()] : [];
  }

  /** Finishers of a race by place (ties by finish instant). */
  finishers(raceId) {
    return this.rows(raceId).filter((row) => row.status === "FIN" && row.place !== null)
      .sort((a, b) => a.place - b.place || (a.finish_ms ?? 0) - (b.finish_ms ?? 0));
  }

  /** The latest finishers by the instant they crossed, newest first. */
  lastFinishers(raceId, count) {
    return this.rows(raceId).filter((row) => row.status === "FIN" && row.finish_ms !== null)
      .sort((a, b) => b.finish_ms - a.finish_ms).slice(0, count);
  }

  /** The first `count` finishers of each category, categories in the given order. */
  categoryLeaders(raceId, categories, count) {
    const leaders = new Map(categories.map((category) => [category, []]));
    for (const row of this.finishers(raceId)) {
      const list = leaders.get(row.category);
      if (list && list.length < count) list.push(row);
    }
    return leaders;
  }

  _forget(bib, exceptRace) {
    for (const [raceId, race] of this.races) {
      if (raceId !== exceptRace) race.rows.delete(bib);
    }
  }
}

/** The passings `row` has that `before` did not: a finish, or splits newly present. */
export function newPassings(before, row) {
  const passings = [];
  const oldSplits = (before && before.splits_ms) || {};
  for (const point of Object.keys(row.splits_ms || {})) {
    if (!(point in oldSplits)) passings.push({ kind: "split", point });
  }
  const finished = row.status === "FIN" && row.finish_ms !== null && row.finish_ms !== undefined;
  const wasFinished = before && before.status === "FIN" && before.finish_ms !== null;
  if (finished && (!wasFinished || before.finish_ms !== row.finish_ms)) {
    passings.push({ kind: "finish", point: null });
  }
  return passings;
}

/** When a race's clock starts: its own gun, else its first wave's (races run in waves may
 * have no gun of their own); null before any. */
export function firstGun(race) {
  if (!race) return null;
  const guns = [race.gun_ms, ...(race.waves || []).map((wave) => wave.gun_ms)]
    .filter((gun) => gun !== null && gun !== undefined);
  return guns.length ? Math.min(...guns) : null;
}
