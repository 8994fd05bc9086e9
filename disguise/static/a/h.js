// The hidden machinery, shared by every disguise. A disguise (c.js, v.js)
// builds its own screen and hands attach an object with:
//   root       the element that holds it
//   eq, clear  its "=" key and its clear key, which this module holds
//   display    the element a long press opens the paste bubble on
//   pin()      the digits typed, if the entry is a plain run of 4–8 digits
//              with no operator, else ''
//   tapEq(), tapClear()  what a short press of those keys does
//   reset()    a fresh screen
//   paste(s)   take s as typed input; false if it is not a number
//   key(k)     handle any other keyboard key; eqKeys and clearKeys name
//              the keyboard keys that stand for eq and clear
//
// The gestures:
//   PIN then "="               check in (or cancel, inside the window
//                              after a hold of "=")
//   hold "=" for 2 s           raise the alarm, then send the location
//   PIN then hold clear 2 s    open the settings (if the server says so)
//   long press on the display  paste: a number, or an enrolment code
// None shows anything the disguise would not show by itself.
//
// A plain 4–8 digit number then "=" is sent as a check-in whoever typed
// it: the app cannot tell the PIN from someone's sum, and it must not
// know which PINs are right (the server decides, and records a wrong one
// without any other effect). Anything with an operator, a point, a sign
// or a percent is arithmetic and sends nothing.
import { el } from './u.js';
import { T } from './t.js';
import { api, enrolment, flush, get, onDone, put, queue, rid, unv, wipe } from './q.js';

const HOLD = 2000; // ms
const IDLE = 60000; // ms before the settings close by themselves
const FIX_MS = 10000; // how long to wait for a location fix
const EVERY = 30000; // ms between location updates
const TRACK = 30 * 60000; // ms of location updates after a press

const SIGNAL = '/v1/app/signal';
const CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/;

let d = null; // the disguise
let hooks = {}; // {enrol(code), fresh()} from m.js
let overlay = null;
let idle = 0;
let pressAt = 0;
let track = null;

// prefs are local choices on this phone: share location (on by
// default) and the discreet confirmation (off by default).
async function prefs() {
  return { loc: true, conf: false, ...((await get('kv', 'p')) || {}) };
}

// hold calls tap on a short press of el and long once it has been held
// for HOLD ms; a long press does nothing more when released. It returns
// down/up for the keyboard.
function hold(target, tap, long) {
  let t = 0;
  let fired = false;
  let on = false;
  const down = () => {
    if (on) return;
    on = true;
    fired = false;
    t = setTimeout(() => {
      fired = true;
      long();
    }, HOLD);
  };
  const up = (ok) => {
    if (!on) return;
    on = false;
    clearTimeout(t);
    if (!fired && ok) tap();
  };
  target.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    try { target.setPointerCapture(e.pointerId); } catch { /* synthetic */ }
    down();
  });
  target.addEventListener('pointerup', () => up(true));
  target.addEventListener('pointercancel', () => up(false));
  target.addEventListener('lostpointercapture', () => up(false));
  return { down, up };
}

// attach plugs a disguise into the machinery.
export function attach(disguise, h) {
  d = disguise;
  hooks = h;
  const eq = hold(d.eq, () => {
    const p = d.pin();
    d.tapEq();
    if (p) checkin(p);
  }, () => raise());
  const clr = hold(d.clear, () => d.tapClear(), () => {
    const p = d.pin();
    if (p) settings(p);
  });
  bubble(d.display);
  d.keys = (e, isDown) => {
    if (overlay || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest('input, select, textarea')) return;
    const pair = d.eqKeys.includes(e.key) ? eq : d.clearKeys.includes(e.key) ? clr : null;
    if (pair) {
      e.preventDefault();
      if (isDown && !e.repeat) pair.down();
      if (!isDown) pair.up(true);
      return;
    }
    if (isDown && d.key(e.key)) e.preventDefault();
  };
}

// Keyboard and page events, installed once.
let installed = false;
export function install() {
  if (installed) return;
  installed = true;
  document.addEventListener('keydown', (e) => d && d.keys && d.keys(e, true));
  document.addEventListener('keyup', (e) => d && d.keys && d.keys(e, false));
  // No menu on a long press of a key or the display (inputs keep theirs,
  // for pasting).
  document.addEventListener('contextmenu', (e) => {
    if (!(e.target.closest && e.target.closest('input, textarea'))) e.preventDefault();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') close();
    else flush();
  });
  addEventListener('pagehide', close);
  addEventListener('online', () => flush());
  onDone(async (body, st) => {
    if (st < 200 || st >= 300 || !['checkin', 'cancel', 'press'].includes(body.kind)) return;
    if ((await prefs()).conf && d) {
      const e = d.display;
      e.classList.remove('f');
      void e.offsetWidth; // restart the animation
      e.classList.add('f');
      e.addEventListener('animationend', () => e.classList.remove('f'), { once: true });
    }
  });
}

// checkin sends the digits typed before "=" as a check-in, or as a cancel
// inside the window after a press. What the digits mean is the server's
// business: the screen shows the calculator's answer whatever they are.
async function checkin(pin) {
  if (!(await enrolment())) return;
  const win = ((await get('kv', 'w')) || 30) * 1000;
  const at = pressAt || (await get('kv', 'a')) || 0;
  const kind = at && Date.now() - at < win ? 'cancel' : 'checkin';
  if (kind === 'cancel') {
    pressAt = 0;
    put('kv', 'a', 0);
    stopTracking();
  }
  await queue('POST', SIGNAL, { kind, pin, raised_at: new Date().toISOString() });
}

// raise sends the press first, then asks for a location fix and sends
// that, then keeps sending fixes while the app is in the foreground.
async function raise() {
  if (!(await enrolment())) return;
  pressAt = Date.now();
  await queue('POST', SIGNAL, { kind: 'press', raised_at: new Date(pressAt).toISOString() });
  put('kv', 'a', pressAt);
  if (!(await prefs()).loc) return;
  stopTracking();
  const t = { until: Date.now() + TRACK, timer: 0, at: new Date(pressAt).toISOString() };
  track = t;
  t.timer = setInterval(() => {
    if (track !== t || Date.now() > t.until) return stopTracking(t);
    if (document.visibilityState === 'visible') sendFix(t);
  }, EVERY);
  sendFix(t);
}

function stopTracking(t = track) {
  if (!t) return;
  clearInterval(t.timer);
  if (track === t) track = null;
}

function fix() {
  return new Promise((res) => {
    if (!navigator.geolocation) return res(null);
    try {
      navigator.geolocation.getCurrentPosition(res, () => res(null), { enableHighAccuracy: true, timeout: FIX_MS, maximumAge: 10000 });
    } catch {
      res(null);
    }
  });
}

async function sendFix(t) {
  const p = await fix();
  if (!p || track !== t) return;
  const c = p.coords;
  await queue('POST', SIGNAL, {
    kind: 'location',
    location: { lat: c.latitude, lon: c.longitude, accuracy_m: Math.round(c.accuracy || 0), at: new Date(p.timestamp || Date.now()).toISOString() },
    raised_at: t.at,
  });
}

// bubble: a long press on the display offers "Paste", as phone
// calculators do. What is pasted (or typed into the field offered where
// the clipboard cannot be read) is an enrolment code if it reads as one,
// and a number otherwise.
function bubble(target) {
  let t = 0;
  let b = null;
  const hide = () => {
    if (b) b.remove();
    b = null;
  };
  const take = (s) => {
    hide();
    const code = String(s).toUpperCase().replace(/[\s-]/g, '');
    if (CODE.test(code)) hooks.enrol(code);
    if (!CODE.test(code) || /^\d+$/.test(code)) d.paste(String(s));
  };
  const show = () => {
    hide();
    const btn = el('button', { type: 'button', class: 'pb' }, 'Paste');
    b = el('div', { class: 'bub' }, btn);
    btn.addEventListener('click', async () => {
      let s = null;
      try { s = await navigator.clipboard.readText(); } catch { /* not allowed */ }
      if (s !== null && s !== '') return take(s);
      const inp = el('input', { type: 'text', class: 'pi', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false', 'aria-label': 'Paste' });
      const ok = el('button', { type: 'button', class: 'pb' }, 'OK');
      ok.addEventListener('click', () => take(inp.value));
      inp.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') take(inp.value);
      });
      b.replaceChildren(inp, ok);
      inp.focus();
    });
    target.after(b);
  };
  target.addEventListener('pointerdown', () => {
    clearTimeout(t);
    t = setTimeout(show, 700);
  });
  for (const ev of ['pointerup', 'pointercancel', 'pointerleave']) target.addEventListener(ev, () => clearTimeout(t));
  document.addEventListener('pointerdown', (e) => {
    if (b && !b.contains(e.target) && e.target !== target) hide();
  });
}

// settings asks the server whether pin opens the settings; only if it
// does does anything change on the screen.
async function settings(pin) {
  if (overlay || !(await enrolment())) return;
  const r = await api('POST', '/v1/app/open', { request_id: rid(), pin });
  const o = r.status === 200 && r.body ? unv(r.body) : null;
  if (!o || o.ok !== true) return;
  if (o.window_s > 0) put('kv', 'w', o.window_s);
  const pr = await prefs();
  if (!overlay) openSettings(pin, o, pr);
}

// close leaves the settings: the view is removed, the PIN forgotten, and
// the disguise starts afresh.
export function close() {
  clearTimeout(idle);
  if (!overlay) return;
  overlay.remove();
  overlay = null;
  if (d) d.reset();
}

function poke() {
  clearTimeout(idle);
  idle = setTimeout(close, IDLE);
}

function field(label, input) {
  return el('label', { class: 'f' }, el('span', {}, label), input);
}

function check(label, on, change) {
  const c = el('input', { type: 'checkbox' });
  c.checked = on;
  c.addEventListener('change', () => change(c.checked));
  return el('label', { class: 'c' }, c, el('span', {}, label));
}

// openSettings builds the whole view at once, so that it appears complete.
function openSettings(pin, o, p) {
  overlay = el('div', { id: 'x', class: 'x' });
  for (const ev of ['pointerdown', 'keydown', 'input']) overlay.addEventListener(ev, poke);
  const exit = el('button', { type: 'button', class: 'q', id: 'xq' }, T.exit);
  exit.addEventListener('click', close);
  const body = el('div', { class: 'xb' });
  overlay.append(el('div', { class: 'xh' }, el('h1', {}, T.title), exit), body);

  const status = el('p', { class: 's', role: 'status' });
  const mode = el('select', { id: 'xm' }, el('option', { value: 'e' }, T.modeEvery), el('option', { value: 't' }, T.modeTimes));
  const every = el('input', { id: 'xe', type: 'number', min: '1', inputmode: 'numeric', value: o.every_minutes || '' });
  const times = el('input', { id: 'xt', type: 'text', placeholder: '08:00, 20:00', value: (o.times || []).join(', ') });
  const grace = el('input', { id: 'xg', type: 'number', min: '0', inputmode: 'numeric', value: o.grace_minutes ?? 15 });
  mode.value = o.times && o.times.length ? 't' : 'e';
  const fe = field(T.every, every);
  const ft = field(T.times, times);
  const sync = () => {
    fe.hidden = mode.value !== 'e';
    ft.hidden = mode.value !== 't';
  };
  mode.addEventListener('change', sync);
  sync();
  const save = el('button', { type: 'button', id: 'xs' }, T.save);
  const off = el('button', { type: 'button', id: 'xo', class: 'l' }, T.off);
  const say = (r, ok) => {
    status.textContent = r.status === 0 ? T.net : r.status >= 200 && r.status < 300 ? ok : T.bad;
  };
  save.addEventListener('click', async () => {
    const b = { request_id: rid(), pin, grace_minutes: Number(grace.value) || 0 };
    if (mode.value === 'e') b.every_minutes = Number(every.value) || 0;
    else b.times = times.value.split(/[\s,]+/).filter(Boolean);
    say(await api('PUT', '/v1/app/checkins', b), T.saved);
  });
  off.addEventListener('click', async () => {
    say(await api('DELETE', '/v1/app/checkins', { request_id: rid(), pin }), T.stopped);
  });

  const loc = check(T.loc, p.loc, async (v) => put('kv', 'p', { ...(await prefs()), loc: v }));
  const conf = check(T.conf, p.conf, async (v) => put('kv', 'p', { ...(await prefs()), conf: v }));
  const find = el('button', { type: 'button', id: 'xf' }, T.find);
  find.addEventListener('click', () => openFind(body));
  const forget = el('button', { type: 'button', id: 'xz', class: 'l' }, T.forget);
  let armed = false;
  forget.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      forget.textContent = T.sure;
      return;
    }
    await api('DELETE', '/v1/app/device', { request_id: rid(), pin }, 5000);
    await wipe();
    close();
    hooks.fresh();
  });

  body.append(
    el('section', {}, el('h2', {}, T.sched), field(T.mode, mode), fe, ft, field(T.grace, grace), el('div', { class: 'row' }, save, off), status),
    el('section', {}, loc, conf),
    el('section', {}, find),
    el('section', {}, forget),
  );
  document.body.append(overlay);
  poke();
}

function openFind(body) {
  const pc = el('input', { id: 'fp', type: 'text', autocomplete: 'postal-code', autocapitalize: 'characters' });
  const cat = el('select', { id: 'fc' }, el('option', { value: '' }, T.any));
  const now = el('input', { id: 'fn', type: 'checkbox' });
  const q = el('input', { id: 'fq', type: 'text' });
  const go = el('button', { type: 'button', id: 'fg' }, T.search);
  const out = el('div', { id: 'fr', class: 'fr', role: 'status' });
  let cats = false;
  const search = async () => {
    const u = new URLSearchParams();
    if (pc.value.trim()) u.set('postcode', pc.value.trim());
    if (cat.value) u.set('category', cat.value);
    if (now.checked) u.set('open_now', '1');
    if (q.value.trim()) u.set('q', q.value.trim());
    out.replaceChildren(el('p', { class: 's' }, '…'));
    const r = await api('GET', '/v1/app/find?' + u);
    const o = r.status === 200 && r.body ? unv(r.body) : null;
    if (!o) {
      out.replaceChildren(el('p', { class: 's' }, r.status === 0 ? T.net : T.bad));
      return;
    }
    if (!cats && o.categories) {
      cats = true;
      for (const c of o.categories) cat.append(el('option', { value: c.id }, c.label));
    }
    const list = (o.services || []).map((s) => {
      const facts = [];
      if (typeof s.distance_km === 'number') facts.push(s.distance_km.toFixed(1) + ' km');
      if (s.open_now) facts.push(T.isOpen);
      return el('li', { class: 'sv' },
        el('strong', {}, s.name),
        facts.length ? el('span', { class: 'm' }, facts.join(' · ')) : null,
        s.description ? el('p', {}, s.description) : null,
        el('div', { class: 'row' },
          s.phone ? el('a', { href: 'tel:' + s.phone.replace(/[^\d+]/g, ''), class: 'btn' }, T.call + ' ' + s.phone) : null,
          /^https:\/\//.test(s.url || '') ? el('a', { href: s.url, class: 'btn', target: '_blank', rel: 'noopener noreferrer' }, T.web) : null));
    });
    out.replaceChildren(list.length ? el('ul', { class: 'svs' }, ...list) : el('p', { class: 's' }, T.none));
  };
  go.addEventListener('click', search);
  body.replaceChildren(el('section', {},
    el('h2', {}, T.find),
    field(T.postcode, pc), field(T.category, cat),
    el('label', { class: 'c' }, now, el('span', {}, T.isOpen)),
    field(T.keyword, q),
    el('div', { class: 'row' }, go)), out);
  pc.focus();
}
