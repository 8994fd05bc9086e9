// live.js keeps the dashboard's WebSocket to the live hub: a fresh
// single-use ticket for every connection (sent in the first frame, never in
// the URL), resume from the last event id, reconnection with capped
// exponential backoff and jitter, and receipts for what was shown.
//
// A socket can look open while nothing comes through it: a frozen server,
// a network that drops packets without closing anything. The hub sends a
// heartbeat every 10 s, so a socket with no frame for 25 s is taken as
// dead: the page says it is not live, drops the socket and reconnects, and
// the replay from the last event id brings what it missed. A connection
// attempt that is not ready within 10 s is abandoned the same way.

import { api, APIError } from './api.js';

// Close codes from the hub that mean "sign in again" or "not allowed":
// reconnecting would not help.
const SESSION_ENDED = 4401;
const FORBIDDEN = 4403;

// Receipts of the last RESEND_MS (at most RESEND_MAX, well inside the
// hub's frame budget) are sent again after a reconnect.
const RESEND_MS = 120000;
const RESEND_MAX = 20;

// STALE_MS without any frame means the connection is dead (the hub's
// heartbeat comes every 10 s); CONNECT_MS bounds one connection attempt,
// from the ticket request to the hub's "ready".
export const STALE_MS = 25000;
const CONNECT_MS = 10000;

export class Live {
  // handlers: snapshot(alerts, id), event(ev), ready(info), status(online),
  // sessionEnded(), forbidden().
  constructor(handlers) {
    this.on = handlers;
    this.ws = null;
    this.since = '';      // the last event id seen; kept in memory only
    this.attempt = 0;
    this.timer = 0;
    this.stopped = true;
    this.online = false;
    this.pending = [];    // receipts waiting for an open socket
    this.sent = [];       // recent receipts, sent again after a reconnect
    this.readyOnce = false;
    this.duty = true;     // on duty: escalation may page this dashboard
    this.lastFrame = 0;   // when the last frame arrived (ms)
    this.started = 0;     // when the current attempt started (ms)
    this.watch = 0;
  }

  // check runs every second: a live socket that has gone quiet, or an
  // attempt that has not become ready, is abandoned and retried.
  check() {
    if (this.stopped) return;
    const now = Date.now();
    if (this.online && now - this.lastFrame > STALE_MS) {
      this.abandon();
    } else if (!this.online && this.started && now - this.started > CONNECT_MS) {
      this.abandon();
    }
  }

  // abandon drops the current socket without waiting for a close
  // handshake a dead peer will never answer, and tries again.
  abandon() {
    const ws = this.ws;
    this.ws = null;
    this.started = 0;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.onopen = null;
      try { ws.close(4000, 'stale'); } catch { /* already closing */ }
    }
    this.retry();
  }

  // setDuty tells the hub whether this person is on duty (kept across
  // reconnections: the hello carries it).
  setDuty(on) {
    this.duty = !!on;
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.online) {
      this.ws.send(JSON.stringify({ type: 'duty', on: this.duty }));
    }
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    clearInterval(this.watch);
    this.watch = setInterval(() => this.check(), 1000);
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.watch);
    this.started = 0;
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = null;
      ws.close(1000, 'bye');
    }
    this.setOnline(false);
  }

  setOnline(v) {
    if (this.online === v) return;
    this.online = v;
    this.on.status(v);
  }

  async connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const attempt = Date.now();
    this.started = attempt;
    let ticket;
    try {
      ticket = (await api('POST', '/v1/auth/ws-ticket', undefined, { timeout: CONNECT_MS - 1000 })).ticket;
    } catch (e) {
      if (this.started !== attempt) return; // abandoned meanwhile
      if (e instanceof APIError && e.status === 401) { this.ended(); return; }
      this.retry();
      return;
    }
    if (this.stopped || this.started !== attempt) return;
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    let ws;
    try {
      ws = new WebSocket(scheme + location.host + '/v1/ws');
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'hello', ticket, since: this.since, duty: this.duty }));
    };
    ws.onmessage = (m) => {
      if (ws !== this.ws) return;
      this.lastFrame = Date.now();
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      this.frame(f);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.started = 0;
      this.setOnline(false);
      if (e.code === SESSION_ENDED) { this.ended(); return; }
      if (e.code === FORBIDDEN) { this.stopped = true; this.on.forbidden(); return; }
      this.retry();
    };
  }

  frame(f) {
    switch (f.type) {
      case 'snapshot':
        if (f.id) this.since = f.id;
        this.on.snapshot(Array.isArray(f.alerts) ? f.alerts : [], f.id);
        break;
      case 'event':
        if (!f.event) return;
        if (f.event.id) this.since = f.event.id;
        this.on.event(f.event);
        break;
      case 'heartbeat':
        break; // only to say the hub is there: lastFrame moved
      case 'ready':
        if (f.id && f.id !== '0-0') this.since = f.id;
        this.attempt = 0;
        this.started = 0;
        this.setOnline(true);
        if (this.readyOnce) this.resend();
        this.readyOnce = true;
        this.flush();
        this.on.ready(f);
        break;
    }
  }

  // seen confirms that an alert event was shown to the person.
  seen(alert, event) {
    if (!alert || !event) return;
    this.pending.push({ type: 'seen', alert, event });
    this.flush();
  }

  flush() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.online) return;
    const now = Date.now();
    for (const r of this.pending.splice(0)) {
      this.ws.send(JSON.stringify(r));
      this.sent.push({ r, at: now });
    }
    this.sent = this.sent.filter((s) => now - s.at < RESEND_MS).slice(-RESEND_MAX);
  }

  // resend queues again the receipts of the last RESEND_MS: the server
  // they went to may have lost them (it stopped, or Redis was away), and
  // a receipt it never stored would page past this person. Storing one
  // twice changes nothing.
  resend() {
    const now = Date.now();
    const again = this.sent.filter((s) => now - s.at < RESEND_MS).map((s) => s.r);
    this.sent = [];
    this.pending.unshift(...again.filter((r) => !this.pending.some((p) => p.alert === r.alert && p.event === r.event)));
  }

  retry() {
    // Always tell the page, also when it never was online: a first
    // connection that fails shows the offline banner too.
    this.online = false;
    this.started = 0;
    this.on.status(false);
    if (this.stopped) return;
    clearTimeout(this.timer);
    // 0.5 s, 1 s, 2 s ... capped at 15 s, with up to 30% jitter so a
    // restarted server is not met by every dashboard at once.
    const base = Math.min(15000, 500 * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 10);
    this.timer = setTimeout(() => this.connect(), base * (0.7 + Math.random() * 0.3));
  }

  ended() {
    this.stopped = true;
    this.setOnline(false);
    this.on.sessionEnded();
  }
}
