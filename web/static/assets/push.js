// push.js offers responders Web Push: with it, escalation can wake their
// browser while the dashboard is closed. The offer shows only when the
// deployment has VAPID keys (GET /v1/push/vapid-key answers 200). The
// subscription is posted again on every load, which keeps it from expiring
// on the server (90 days after the last save). The service worker shows
// only "New alert"; nothing sensitive travels or shows.

import { api, message } from './api.js';
import { toast } from './dom.js';

// The service worker's URL is a Trusted Types sink: this policy, the only
// one the CSP allows, passes exactly one URL and nothing else.
let policy = null;
function workerURL() {
  if (!window.trustedTypes) return '/sw.js';
  if (!policy) {
    policy = window.trustedTypes.createPolicy('waymark-sw', {
      createScriptURL: (u) => {
        if (u !== '/sw.js') throw new TypeError('unexpected worker URL');
        return u;
      },
    });
  }
  return policy.createScriptURL('/sw.js');
}

// keyBytes decodes the base64url applicationServerKey.
function keyBytes(s) {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

function sameKey(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a);
  if (x.length !== b.length) return false;
  return x.every((v, i) => v === b[i]);
}

export class WebPush {
  constructor(button) {
    this.button = button;
    this.reg = null;
    this.key = null;
    this.started = false;
    button.addEventListener('click', () => this.subscribe());
  }

  // start runs once per load for a responder: registers the worker when
  // the server offers Web Push, renews an existing subscription, or shows
  // the offer.
  async start() {
    if (this.started) return;
    this.started = true;
    document.body.dataset.push = 'checking';
    if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
      document.body.dataset.push = 'unsupported';
      return;
    }
    try {
      const res = await api('GET', '/v1/push/vapid-key');
      this.key = keyBytes((res && res.public_key) || '');
    } catch {
      // 404: this deployment has no Web Push; nothing to offer.
      document.body.dataset.push = 'off';
      return;
    }
    try {
      this.reg = await navigator.serviceWorker.register(workerURL(), { scope: '/' });
      document.body.dataset.sw = 'registered';
    } catch {
      document.body.dataset.push = 'unsupported';
      return;
    }
    let sub = null;
    try { sub = await this.reg.pushManager.getSubscription(); } catch { sub = null; }
    if (sub && !sameKey(sub.options && sub.options.applicationServerKey, this.key)) {
      // The server's keys changed: the old subscription cannot be used.
      try { await sub.unsubscribe(); } catch { /* gone either way */ }
      sub = null;
    }
    if (sub && Notification.permission === 'granted') {
      await this.save(sub, false);
      return;
    }
    this.offer();
  }

  offer() {
    const on = Notification.permission !== 'denied';
    this.button.hidden = !on;
    document.body.dataset.push = on ? 'offered' : 'denied';
  }

  async subscribe() {
    this.button.disabled = true;
    try {
      const perm = await Notification.requestPermission();
      if (perm !== 'granted') {
        toast('Notifications are blocked in this browser, so alerts cannot reach you while the dashboard is closed.');
        this.offer();
        return;
      }
      const sub = await this.reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: this.key });
      await this.save(sub, true);
    } catch (e) {
      toast(e && e.status ? message(e) : 'This browser could not turn on alerts while the dashboard is closed.');
    } finally {
      this.button.disabled = false;
    }
  }

  // drop runs on sign-out: this browser stops receiving the person's
  // alerts (a shared device must not wake for someone who has gone), on
  // the server and in the browser. It never holds sign-out up for long.
  async drop() {
    if (!this.reg) return;
    const work = (async () => {
      const sub = await this.reg.pushManager.getSubscription();
      if (!sub) return;
      try { await api('DELETE', '/v1/push/subscriptions', { endpoint: sub.endpoint }); } catch { /* gone already */ }
      await sub.unsubscribe();
    })().catch(() => {});
    await Promise.race([work, new Promise((res) => setTimeout(res, 2000))]);
  }

  async save(sub, announce) {
    try {
      await api('POST', '/v1/push/subscriptions', sub.toJSON());
      this.button.hidden = true;
      document.body.dataset.push = 'subscribed';
      if (announce) toast('Alerts will reach this device while the dashboard is closed.');
    } catch (e) {
      this.offer();
      if (announce) toast(message(e));
    }
  }
}
