// Hand timing: one key records a time for the next finisher; bibs are typed in finish order
// separately; row i pairs the i-th time with the i-th bib. A missed tap or a missed bib shifts
// every later pair, so the operator fixes the two sequences with insert/delete before
// committing rows as manual reads. Pure state, no DOM, so it is unit-tested under node.

export class HandTiming {
  constructor(state = null) {
    this.taps = state ? [...state.taps] : [];
    this.bibs = state ? [...state.bibs] : [];
  }

  /** Record a time (epoch ms) for the next finisher. */
  tap(ms) {
    this.taps.push(ms);
  }

  /** The next bib in finish order; blank input is refused (a real miss is insertBib). */
  addBib(bib) {
    const text = String(bib ?? "").trim();
    if (!text) return false;
    this.bibs.push(text);
    return true;
  }

  /** A tap was missed before row `index`: later times move down one row. */
  insertTap(index, ms = null) {
    this.taps.splice(clamp(index, this.taps.length), 0, ms);
  }

  /** A double tap: the time at `index` goes, later times move up one row. */
  deleteTap(index) {
    if (index >= 0 && index < this.taps.length) this.taps.splice(index, 1);
  }

  /** A finisher whose bib was not seen: a blank bib at `index`, later bibs move down. */
  insertBib(index, bib = null) {
    this.bibs.splice(clamp(index, this.bibs.length), 0, bib);
  }

  deleteBib(index) {
    if (index >= 0 && index < this.bibs.length) this.bibs.splice(index, 1);
  }

  setBib(index, bib) {
    if (index >= 0 && index < this.bibs.length) this.bibs[index] = String(bib).trim() || null;
  }

  setTapTime(index, ms) {
    if (index >= 0 && index < this.taps.length) this.taps[index] = ms;
  }

  /** Rows pairing times and bibs; `complete` when both are there. */
  rows() {
    const count = Math.max(this.taps.length, this.bibs.length);
    const rows = [];
    for (let index = 0; index < count; index += 1) {
      const time = index < this.taps.length ? this.taps[index] : undefined;
      const bib = index < this.bibs.length ? this.bibs[index] : undefined;
      rows.push({ index, time_ms: time ?? null, bib: bib ?? null,
        complete: time !== undefined && time !== null && bib !== undefined && bib !== null });
    }
    return rows;
  }

  /** How many leading rows both sequences have reached (what commit() takes by default). */
  pairedCount() {
    return Math.min(this.taps.length, this.bibs.length);
  }

  /** Remove the first `upTo` rows from both sequences. Complete rows become manual-read
   * entries for POST /api/manual; rows with a blank time or bib come back as `skipped` so the
   * operator sees what was not posted. */
  commit(upTo = this.pairedCount()) {
    const count = Math.max(0, Math.min(upTo, Math.max(this.taps.length, this.bibs.length)));
    const taken = this.rows().slice(0, count);
    this.taps.splice(0, count);
    this.bibs.splice(0, count);
    const entries = taken.filter((row) => row.complete)
      .map((row) => ({ bib: row.bib, time_ms: row.time_ms, point: null }));
    const skipped = taken.filter((row) => !row.complete);
    return { entries, skipped };
  }

  /** Put entries back at the front (their POST failed), keeping their order. */
  restoreFront(entries) {
    this.taps.unshift(...entries.map((entry) => entry.time_ms));
    this.bibs.unshift(...entries.map((entry) => entry.bib));
  }

  toJSON() {
    return { taps: this.taps, bibs: this.bibs };
  }
}

function clamp(index, length) {
  return Math.max(0, Math.min(index, length));
}
