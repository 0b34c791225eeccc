// The clock the live pages count with. Normally the server's clock (the device's, corrected
// by the HTTP Date header). But a passing can never be in the future: when the feed brings
// passings ahead of that clock (a reader whose clock runs fast; `gambero demo`, whose race
// runs several times faster than real time), the clock moves up to them, and when they keep
// coming ahead at a steady rate the clock runs at that rate. Pure: the wall clock is passed in.

const AHEAD_MS = 500;
const WINDOW_MS = 60000;
const MIN_SPREAD_MS = 3000;

export class FeedClock {
  constructor(offsetMs = 0, wall = Date.now()) {
    this.baseMs = wall + offsetMs; // the clock's reading at wall time `baseWall`
    this.baseWall = wall;
    this.rate = 1;
    this.samples = []; // [wall, instant] of passings that came ahead of the clock
  }

  now(wall = Date.now()) {
    return Math.round(this.baseMs + (wall - this.baseWall) * this.rate);
  }

  /** A passing at `instantMs` (epoch ms) arrived at wall time `wall`. */
  observe(instantMs, wall = Date.now()) {
    if (instantMs === null || instantMs === undefined) return;
    const current = this.now(wall);
    if (instantMs <= current + AHEAD_MS) return;
    this.samples.push([wall, instantMs]);
    this.samples = this.samples.filter(([seen]) => wall - seen <= WINDOW_MS);
    this.rate = this._estimateRate();
    this.baseMs = instantMs;
    this.baseWall = wall;
  }

  /** The slope of instants against wall time over the recent samples (least squares), when
   * they span long enough to mean something; 1 otherwise. Never below 1. */
  _estimateRate() {
    const samples = this.samples;
    if (samples.length < 3 || samples[samples.length - 1][0] - samples[0][0] < MIN_SPREAD_MS) {
      return this.rate;
    }
    const n = samples.length;
    const meanX = samples.reduce((sum, [x]) => sum + x, 0) / n;
    const meanY = samples.reduce((sum, [, y]) => sum + y, 0) / n;
    let num = 0;
    let den = 0;
    for (const [x, y] of samples) {
      num += (x - meanX) * (y - meanY);
      den += (x - meanX) * (x - meanX);
    }
    const slope = den > 0 ? num / den : 1;
    return slope > 1.2 ? slope : 1;
  }
}

/** The instants (epoch ms) of the passings a store change brought. */
export function passingInstants(change) {
  const instants = [];
  for (const passing of change.passings) {
    if (passing.kind === "finish") instants.push(change.row.finish_ms);
    else if (change.row.start_ms !== null && change.row.start_ms !== undefined) {
      instants.push(change.row.start_ms + change.row.splits_ms[passing.point]);
    }
  }
  return instants.filter((instant) => Number.isFinite(instant));
}
