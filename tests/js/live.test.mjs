import assert from "node:assert/strict";
import { test } from "node:test";
import { LiveClient, liveUrl } from "../../display/static/js/live.js";

class FakeTimers {
  constructor() { this.pending = new Map(); this.next = 1; }
  setTimeout(fn, ms) { const id = this.next++; this.pending.set(id, { fn, ms }); return id; }
  clearTimeout(id) { this.pending.delete(id); }
  setInterval() { return this.next++; }
  clearInterval() {}
  runAll() { const due = [...this.pending.values()]; this.pending.clear(); due.forEach((t) => t.fn()); }
}

function fakeSocketClass(log) {
  return class FakeSocket {
    constructor(url) { this.url = url; this.sent = []; log.push(this); }
    send(text) { this.sent.push(text); }
    close() { this.closed = true; }
    open() { this.onopen(); }
    receive(message) { this.onmessage({ data: JSON.stringify(message) }); }
    drop() { this.onclose({}); }
  };
}

const where = { protocol: "http:", host: "127.0.0.1:8000" };

test("the URL carries races, since and token", () => {
  assert.equal(liveUrl({ protocol: "https:", host: "x" }, { races: ["a", "b"], since: 5, token: "t" }),
    "wss://x/ws/live?race=a&race=b&since=5&token=t");
  assert.equal(liveUrl(where), "ws://127.0.0.1:8000/ws/live");
});

test("reconnects by itself with since= its last seq and skips frames it has", () => {
  const sockets = [];
  const timers = new FakeTimers();
  const deltas = [];
  const statuses = [];
  const client = new LiveClient({ location: where, WebSocketImpl: fakeSocketClass(sockets), timers,
    random: () => 0, onDelta: (m) => deltas.push(m.seq), onStatus: (s) => statuses.push(s) });
  client.start();
  sockets[0].open();
  sockets[0].receive({ type: "snapshot", seq: 10, races: {} });
  sockets[0].receive({ type: "delta", seq: 12, first_seq: 11, rows: [], reload: [] });
  sockets[0].drop();
  assert.equal(timers.pending.size, 1, "a reconnect is scheduled");
  assert.equal([...timers.pending.values()][0].ms, 300);
  timers.runAll();
  assert.equal(sockets[1].url, "ws://127.0.0.1:8000/ws/live?since=12");
  sockets[1].receive({ type: "delta", seq: 12, first_seq: 11, rows: [], reload: [] });
  sockets[1].receive({ type: "delta", seq: 14, first_seq: 13, rows: [], reload: [] });
  assert.deepEqual(deltas, [12, 14]);
  assert.deepEqual(statuses, ["connecting", "live", "offline", "connecting", "live"]);
});

test("backs off while the server stays away, and resets once it answers", () => {
  const sockets = [];
  const timers = new FakeTimers();
  const client = new LiveClient({ location: where, WebSocketImpl: fakeSocketClass(sockets), timers,
    random: () => 0 });
  client.start();
  const delays = [];
  for (let i = 0; i < 7; i += 1) {
    sockets[sockets.length - 1].drop();
    delays.push([...timers.pending.values()][0].ms);
    timers.runAll();
  }
  assert.deepEqual(delays, [300, 1000, 2000, 4000, 8000, 10000, 10000]);
  sockets[sockets.length - 1].receive({ type: "snapshot", seq: 1, races: {} });
  sockets[sockets.length - 1].drop();
  assert.equal([...timers.pending.values()][0].ms, 300);
});

test("a gap in sequence numbers asks for a snapshot", () => {
  const sockets = [];
  const client = new LiveClient({ location: where, WebSocketImpl: fakeSocketClass(sockets),
    timers: new FakeTimers() });
  const deltas = [];
  client.onDelta = (m) => deltas.push(m.seq);
  client.start();
  sockets[0].receive({ type: "snapshot", seq: 5, races: {} });
  sockets[0].receive({ type: "delta", seq: 9, first_seq: 8, rows: [], reload: [] });
  assert.deepEqual(deltas, []);
  assert.equal(sockets[0].closed, true);
  assert.equal(sockets[1].url, "ws://127.0.0.1:8000/ws/live", "no since: the server sends a snapshot");
  client.stop();
  assert.equal(sockets[1].closed, true);
});

test("bad frames are ignored, health goes to its handler", () => {
  const sockets = [];
  const health = [];
  const client = new LiveClient({ location: where, WebSocketImpl: fakeSocketClass(sockets),
    timers: new FakeTimers(), onHealth: (m) => health.push(m) });
  client.start();
  sockets[0].onmessage({ data: "not json" });
  sockets[0].receive({ type: "health", seq: 2, readers: [] });
  assert.equal(health.length, 1);
});

test("a page that has the state as of a seq starts from it, without a snapshot", () => {
  const sockets = [];
  const deltas = [];
  const client = new LiveClient({ location: where, WebSocketImpl: fakeSocketClass(sockets),
    timers: new FakeTimers(), since: 41, races: ["mile"], onDelta: (m) => deltas.push(m.seq) });
  client.start();
  assert.equal(sockets[0].url, "ws://127.0.0.1:8000/ws/live?race=mile&since=41");
  sockets[0].receive({ type: "delta", seq: 45, first_seq: 42, rows: [], reload: [] });
  assert.deepEqual(deltas, [45]);
  assert.equal(client.snapshots, 0);
});
