// The shared websocket client for /ws/live (docs/api.md): reconnects by itself with backoff,
// resumes with ?since=<last seq>, drops frames it already applied, and asks for a fresh
// snapshot when it sees a gap in sequence numbers. The WebSocket class and the timers are
// injected so node tests drive it with a fake socket.

export const BACKOFF_MS = [300, 1000, 2000, 4000, 8000, 10000];
const PING_EVERY_MS = 20000;
const SILENT_LIMIT_MS = 45000;

export function liveUrl(location, { races = [], since = null, token = null } = {}) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const params = new URLSearchParams();
  for (const race of races) params.append("race", race);
  if (since !== null && since !== undefined) params.set("since", String(since));
  if (token) params.set("token", token);
  const query = params.toString();
  return `${scheme}//${location.host}/ws/live${query ? "?" + query : ""}`;
}

export class LiveClient {
  constructor({
    location, races = [], token = null, onSnapshot = () => {}, onDelta = () => {},
    onHealth = () => {}, onStatus = () => {}, WebSocketImpl = globalThis.WebSocket,
    timers = globalThis, random = Math.random, detectGaps = true, since = null,
  }) {
    Object.assign(this, { location, races, token, onSnapshot, onDelta, onHealth, onStatus,
      WebSocketImpl, timers, random, detectGaps });
    // A page that already has the state as of `since` (from a REST answer's seq) connects
    // with it: the server then sends what changed since, not a whole snapshot.
    this.seq = since;
    this.snapshots = 0;
    this.attempt = 0;
    this.socket = null;
    this.stopped = true;
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.lastMessageAt = 0;
    this.serverAnswersPings = false;
    this.status = "offline";
  }

  start() {
    this.stopped = false;
    this._connect();
  }

  stop() {
    this.stopped = true;
    this._clearTimers();
    if (this.socket) this.socket.close();
    this.socket = null;
    this._setStatus("offline");
  }

  /** Reconnect at once (the browser came back online, the tab became visible). */
  reconnectNow() {
    if (this.stopped) return;
    if (this.socket && this.status === "live") return;
    this._clearTimers();
    this.attempt = 0;
    if (this.socket) this._dropSocket();
    this._connect();
  }

  url() {
    return liveUrl(this.location, { races: this.races, since: this.seq, token: this.token });
  }

  _connect() {
    this._setStatus("connecting");
    let socket;
    try {
      socket = new this.WebSocketImpl(this.url());
    } catch (_error) {
      this._scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.lastMessageAt = Date.now();
      this._startPings();
    };
    socket.onmessage = (event) => {
      if (socket !== this.socket) return;
      this._receive(event.data);
    };
    socket.onclose = () => {
      if (socket !== this.socket) return;
      this.socket = null;
      this._clearTimers();
      if (!this.stopped) this._scheduleReconnect();
    };
    socket.onerror = () => {};
  }

  _receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch (_error) {
      return; // not ours to crash on; the next frame or a snapshot puts things right
    }
    this.lastMessageAt = Date.now();
    this.attempt = 0;
    this._setStatus("live");
    if (message.type === "snapshot") {
      this.seq = message.seq;
      this.snapshots += 1;
      this.onSnapshot(message);
    } else if (message.type === "delta") {
      if (this.seq !== null && message.seq <= this.seq) return; // already applied
      if (this.detectGaps && this.seq !== null && message.first_seq > this.seq + 1) {
        this.resync();
        return;
      }
      this.seq = message.seq;
      this.onDelta(message);
    } else if (message.type === "health") {
      this.onHealth(message);
    } else if (message.type === "pong") {
      this.serverAnswersPings = true;
    }
  }

  /** Forget the position and reconnect: the server answers with a snapshot. */
  resync() {
    this.seq = null;
    this._clearTimers();
    this._dropSocket();
    this._connect();
  }

  _dropSocket() {
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close();
  }

  _scheduleReconnect() {
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this._setStatus("offline");
    const delay = Math.round(base * (1 + 0.3 * this.random()));
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopped) this._connect();
    }, delay);
  }

  _startPings() {
    this.pingTimer = this.timers.setInterval(() => {
      const socket = this.socket;
      if (!socket) return;
      if (this.serverAnswersPings && Date.now() - this.lastMessageAt > SILENT_LIMIT_MS) {
        this._dropSocket(); // a half-open connection: nothing will ever come
        this._scheduleReconnect();
        return;
      }
      try {
        socket.send(JSON.stringify({ type: "ping" }));
      } catch (_error) { /* the close handler reconnects */ }
    }, PING_EVERY_MS);
  }

  _clearTimers() {
    if (this.reconnectTimer !== null) this.timers.clearTimeout(this.reconnectTimer);
    if (this.pingTimer !== null) this.timers.clearInterval(this.pingTimer);
    this.reconnectTimer = null;
    this.pingTimer = null;
  }

  _setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status);
  }
}
