// Records a time is checked against: the world bests for running backwards (by distance) and
// a course record when the event gives one (race.record_ms from the API, or the scoreboard's
// ?record_<race>=M:SS). Pure functions.
import { parseDuration } from "./timefmt.js";

/** World bests running backwards, by distance: 400 m 1:09, 1000 m 3:32, 3000 m 11:39. */
export const WORLD_BESTS_BACKWARDS = [
  { distance_m: 400, ms: 69000 },
  { distance_m: 1000, ms: 212000 },
  { distance_m: 3000, ms: 699000 },
];

/** The records that apply to a race: [{kind: "world"|"course", ms}], best first. */
export function recordsFor(race, search = "") {
  const records = [];
  const world = WORLD_BESTS_BACKWARDS.find(
    (best) => Math.abs(best.distance_m - Number(race.distance_m)) < 0.5);
  if (world) records.push({ kind: "world", ms: world.ms });
  let course = Number.isInteger(race.record_ms) ? race.record_ms : null;
  const override = new URLSearchParams(search).get(`record_${race.id}`);
  if (override) course = parseDuration(override) ?? course;
  if (course !== null) records.push({ kind: "course", ms: course });
  return records.sort((a, b) => a.ms - b.ms);
}

/** The best record a finish time beats (strictly faster), or null. */
export function recordBeaten(timeMs, records) {
  if (timeMs === null || timeMs === undefined) return null;
  return records.find((record) => timeMs < record.ms) || null;
}
