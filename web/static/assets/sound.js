// sound.js plays the new-alert tone (WebAudio: no file to fetch) and shows
// the system notification, which only ever says "New alert": a lock
// screen is no place for anything else.

export class Alarm {
  constructor(onChange) {
    this.ctx = null;
    this.onChange = onChange || (() => {});
    // Browsers start audio only after a gesture: the first tap or key
    // anywhere (signing in counts) unlocks it for the rest of the shift.
    const unlock = () => this.unlock();
    window.addEventListener('pointerdown', unlock, { capture: true });
    window.addEventListener('keydown', unlock, { capture: true });
  }

  unlock() {
    if (!this.ctx) {
      const C = window.AudioContext || window.webkitAudioContext;
      if (!C) return;
      try { this.ctx = new C(); } catch { return; }
      this.ctx.onstatechange = () => this.onChange();
    }
    if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
  }

  // ready reports whether a new alert can be heard.
  ready() {
    return !!this.ctx && this.ctx.state === 'running';
  }

  // play sounds two tones, or four higher, faster ones for duress.
  play(urgent) {
    const ctx = this.ctx;
    if (!ctx || ctx.state !== 'running') return;
    const notes = urgent ? [988, 740, 988, 740] : [880, 660];
    const len = urgent ? 0.14 : 0.2;
    let t = ctx.currentTime + 0.02;
    for (const f of notes) {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.type = 'sine';
      o.frequency.value = f;
      g.gain.setValueAtTime(0.0001, t);
      g.gain.exponentialRampToValueAtTime(0.4, t + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t + len);
      o.connect(g).connect(ctx.destination);
      o.start(t);
      o.stop(t + len + 0.02);
      t += len + 0.06;
    }
  }

  // canNotify reports whether asking for permission makes sense.
  static notifyState() {
    if (!('Notification' in window)) return 'unsupported';
    return Notification.permission; // default | granted | denied
  }

  async enableNotifications() {
    if (!('Notification' in window)) return 'unsupported';
    try { return await Notification.requestPermission(); } catch { return Notification.permission; }
  }

  // notify shows "New alert" and nothing else; repeated ones replace each
  // other on the lock screen.
  notify() {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const n = new Notification('New alert', { tag: 'waymark-new-alert', renotify: true });
      n.onclick = () => { window.focus(); n.close(); };
    } catch {
      // Some mobile browsers only notify through a service worker; the
      // sound and the page itself still carry the alert.
    }
  }
}
