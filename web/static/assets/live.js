// live.js keeps the dashboard's WebSocket to the live hub: a fresh
// single-use ticket for every connection (sent in the first frame, never in
// the URL), resume from the last event id, reconnection with capped
// exponential backoff and jitter, and receipts for what was shown.

import { api, APIError } from './api.js';

// Close codes from the hub that mean "sign in again" or "not allowed":
// reconnecting would not help.
const SESSION_ENDED = 4401;
const FORBIDDEN = 4403;

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
    this.duty = true;     // on duty: escalation may page this dashboard
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
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
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
    let ticket;
    try {
      ticket = (await api('POST', '/v1/auth/ws-ticket')).ticket;
    } catch (e) {
      if (e instanceof APIError && e.status === 401) { this.ended(); return; }
      this.retry();
      return;
    }
    if (this.stopped) return;
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
      let f;
      try { f = JSON.parse(m.data); } catch { return; }
      this.frame(f);
    };
    ws.onclose = (e) => {
      if (ws !== this.ws) return;
      this.ws = null;
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
      case 'ready':
        if (f.id && f.id !== '0-0') this.since = f.id;
        this.attempt = 0;
        this.setOnline(true);
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
    for (const r of this.pending.splice(0)) this.ws.send(JSON.stringify(r));
  }

  retry() {
    // Always tell the page, also when it never was online: a first
    // connection that fails shows the offline banner too.
    this.online = false;
    this.on.status(false);
    if (this.stopped) return;
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
