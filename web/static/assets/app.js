// app.js starts the dashboard: sign-in, the live connection, the queue,
// and which screen shows. State lives in memory only; nothing goes in the
// browser's persistent storage, and URLs carry no more than an opaque
// alert or case id in the fragment, which never reaches the server.

import { api, APIError, message } from './api.js';
import { $, announce, toast } from './dom.js';
import { svgIcon } from './icons.js';
import { Live } from './live.js';
import { alertOf, clock, validAlertID, validCaseID } from './model.js';
import { Alarm } from './sound.js';
import { renderQueue, tickAges } from './queue.js';
import { AlertView } from './alertview.js';
import { CasesView } from './cases.js';
import { DirectoryView } from './directory.js';
import { setup } from './setup.js';
import { WebPush } from './push.js';
import { AdminView } from './admin.js';
import { CoordView } from './coord.js';
import { RefugeView } from './refuge.js';
import { Duty } from './duty.js';

// app is the dashboard's one piece of shared state.
const app = {
  me: null,
  alerts: new Map(),   // open alerts by id, as alertOf reads them
  readOnly: false,     // the session ended: show, never act
  online: false,
  view: '',
  alarm: null,
  live: null,
  known: new Set(),    // alert ids already announced with a sound
  refreshing: new Map(),
  loading: [],         // sets of alert ids changed while a list is read
  unseen: [],          // receipts held while the page is hidden
};

const has = (role) => !!(app.me && app.me.roles && app.me.roles.includes(role));

// --- sign-in ---------------------------------------------------------------

async function boot() {
  app.alarm = new Alarm(updateSoundButton);
  for (const b of document.querySelectorAll('.banner .icon')) {
    b.replaceWith(svgIcon(b.closest('.offline') ? 'warning' : 'lock'));
  }
  $('#login-form').addEventListener('submit', onLogin);
  $('#signout').addEventListener('click', signOut);
  $('#sound-enable').addEventListener('click', () => { app.alarm.unlock(); app.alarm.play(false); });
  $('#notify-enable').addEventListener('click', async () => {
    await app.alarm.enableNotifications();
    updateNotifyButton();
  });
  for (const t of document.querySelectorAll('#nav .tab')) {
    t.addEventListener('click', () => go('#/' + t.dataset.view));
  }
  window.addEventListener('hashchange', route);
  window.addEventListener('waymark:session-ended', sessionEnded);
  document.addEventListener('visibilitychange', flushSeen);
  // Ages count only while alerts are arriving.
  setInterval(() => { if (app.online || !app.live) tickAges(document); }, 1000);
  setInterval(() => { if (app.online) app.lastLive = Date.now(); }, 1000);

  app.updateTitle = updateTitle;
  app.alertView = new AlertView(app, { refresh: refreshAlert, go });
  app.casesView = new CasesView(app, { go });
  app.directoryView = new DirectoryView(app);
  app.adminView = new AdminView(app);
  app.coordView = new CoordView(app);
  app.refugeView = new RefugeView(app);
  app.push = new WebPush($('#push-enable'));
  app.duty = new Duty(app);

  if (location.pathname === '/setup') {
    // The token stays in memory only: off the address bar and out of
    // history before anything else runs.
    const token = location.hash.slice(1);
    history.replaceState(null, '', '/');
    if (token) {
      const v = $('#view-setup');
      v.hidden = false;
      setup(v, token, async (me) => {
        v.hidden = true;
        app.me = me;
        await signedIn();
      });
      return;
    }
  }
  let me = null;
  try {
    me = await api('GET', '/v1/auth/me', undefined);
  } catch (e) {
    me = null;
  }
  // Someone may have signed in through the form while this question was
  // on its way (a slow server): their answer wins, and the older "not
  // signed in" must not put the sign-in screen back over their work.
  if (app.me) return;
  app.me = me;
  if (app.me) {
    await signedIn();
  } else {
    showLogin(false);
  }
}

function showLogin(reauth) {
  const v = $('#view-login');
  v.hidden = false;
  $('#login-title').textContent = reauth ? 'Sign in again to act' : 'Sign in';
  if (!reauth) {
    for (const s of document.querySelectorAll('main > .view:not(#view-login)')) s.hidden = true;
    $('#nav').hidden = true;
  }
  if (reauth && app.me) {
    const u = $('#login-username');
    if (!u.value) u.value = app.me.username || '';
  }
  const first = $('#login-username').value ? $('#login-password') : $('#login-username');
  first.focus();
}

async function onLogin(ev) {
  ev.preventDefault();
  const f = ev.target;
  const err = $('#login-error');
  err.hidden = true;
  const body = {
    username: f.username.value.trim(),
    password: f.password.value,
    totp: f.totp.value.replace(/\s+/g, ''),
  };
  if (!body.username || !body.password || !/^\d{6}$/.test(body.totp)) {
    err.textContent = 'Enter your username, password and the 6-digit code from your authenticator app.';
    err.hidden = false;
    return;
  }
  const btn = $('#login-submit');
  btn.disabled = true;
  try {
    const me = await api('POST', '/v1/auth/login', body);
    const sameUser = app.me && app.me.id === me.id;
    if (app.me && !sameUser) {
      // Another person at the same screen starts clean.
      app.alerts.clear();
      app.known.clear();
      if (app.live) { app.live.stop(); app.live = null; }
    }
    app.me = me;
    f.reset();
    await signedIn();
  } catch (e) {
    err.textContent = e instanceof APIError && e.status === 401
      ? 'That did not match. Check your username, password and code.'
      : message(e);
    err.hidden = false;
    f.password.value = '';
    f.totp.value = '';
    f.password.focus();
  } finally {
    btn.disabled = false;
  }
}

async function signedIn() {
  app.readOnly = false;
  document.body.classList.remove('readonly');
  $('#banner-session').hidden = true;
  $('#view-login').hidden = true;
  $('#who').textContent = app.me.display_name || app.me.username;
  $('#signout').hidden = false;
  $('#nav').hidden = false;
  $('#tab-queue').hidden = !has('responder');
  $('#tab-cases').hidden = !has('caseworker');
  $('#tab-admin').hidden = !has('admin');
  $('#tab-coord').hidden = !(has('admin') || has('coordinator'));
  $('#tab-refuge').hidden = !has('refuge');
  updateNotifyButton();
  updateSoundButton();
  if (has('responder')) {
    await loadQueue();
    if (!app.live) {
      app.live = new Live({
        snapshot: onSnapshot,
        event: onEvent,
        ready: () => {},
        status: onStatus,
        sessionEnded,
        forbidden: () => toast('This account cannot receive live alerts.'),
      });
    }
    app.live.start();
    app.duty.show(true);
    // Not awaited: the queue must not wait for the push service.
    app.push.start();
  }
  if (!location.hash || location.hash === '#') {
    go(has('responder') ? '#/queue' : has('caseworker') ? '#/cases' : has('admin') ? '#/admin' : has('coordinator') ? '#/coord' : has('refuge') ? '#/refuge' : '#/directory', true);
  }
  route();
}

async function signOut() {
  await app.push.drop();
  try { await api('POST', '/v1/auth/logout'); } catch { /* the session is gone either way */ }
  // Leave nothing of the shift behind in this tab.
  location.replace('/');
}

// sessionEnded keeps the queue on screen, read-only, until the person signs
// in again; actions are hidden and the live connection stops.
function sessionEnded() {
  if (app.readOnly || !app.me) {
    if (!app.me) showLogin(false);
    return;
  }
  app.readOnly = true;
  document.body.classList.add('readonly');
  if (app.live) app.live.stop();
  $('#banner-offline').hidden = true;
  $('#banner-session').hidden = false;
  renderQueue(app);
  if (app.view === 'alert') app.alertView.render();
  showLogin(true);
  announce('Your session has ended. Sign in again to act.');
}

// --- the queue and the live connection -----------------------------------

// loadQueue reads the open alerts. Events that arrive while the list is
// on its way are read again afterwards, so an older list never hides a
// newer change.
async function loadQueue() {
  const dirty = new Set();
  app.loading.push(dirty);
  try {
    const res = await api('GET', '/v1/alerts?state=open');
    replaceAlerts((res && res.alerts) || []);
  } catch (e) {
    if (!(e instanceof APIError && e.status === 401)) toast(message(e));
  } finally {
    app.loading.splice(app.loading.indexOf(dirty), 1);
  }
  for (const id of dirty) refreshAlert(id);
}

function replaceAlerts(list) {
  const next = new Map();
  for (const raw of list) {
    const a = alertOf(raw);
    if (a.id && a.open) next.set(a.id, a);
    app.known.add(a.id);
  }
  app.alerts = next;
  renderQueue(app);
}

// onSnapshot gets the ids of the open alerts when the hub could not replay
// (a first connection, or too long away). It drops what closed at once,
// then reads the full list; alerts the page had not seen yet sound.
async function onSnapshot(list, id) {
  const open = new Set(list.map((a) => a.id));
  const fresh = list.filter((a) => validAlertID(a.id) && !app.known.has(a.id));
  for (const k of [...app.alerts.keys()]) if (!open.has(k)) app.alerts.delete(k);
  renderQueue(app);
  await loadQueue();
  if (fresh.length) {
    newAlertSignal(fresh.some((a) => a.priority >= 400));
    for (const a of fresh) seen(a.id, id);
  }
  if (app.view === 'alert') app.alertView.refresh();
}

function onEvent(ev) {
  if (!validAlertID(ev.alert)) return;
  if (ev.type === 'seen') {
    // Someone's receipt changes nothing in the queue; every dashboard
    // reading the alert again for each one would not scale.
    if (app.view === 'alert' && app.alertView.id === ev.alert) app.alertView.refresh();
    return;
  }
  for (const d of app.loading) d.add(ev.alert);
  if (ev.type === 'raised' && !app.known.has(ev.alert)) {
    app.known.add(ev.alert);
    newAlertSignal(ev.priority >= 400);
  } else if (ev.type === 'joined' && ev.priority >= 400) {
    const cur = app.alerts.get(ev.alert);
    if (cur && !cur.duress) newAlertSignal(true);
  }
  refreshAlert(ev.alert).then(() => seen(ev.alert, ev.id));
}

function newAlertSignal(urgent) {
  app.alarm.play(urgent);
  if (document.hidden || !document.hasFocus()) app.alarm.notify();
  announce(urgent ? 'New duress alert' : 'New alert');
}

// refreshAlert reads one alert again after an event; several events for
// one alert in a burst cost one or two requests, not one each.
function refreshAlert(id) {
  const cur = app.refreshing.get(id);
  if (cur) {
    cur.again = true;
    return cur.done;
  }
  const entry = { again: false };
  entry.done = (async () => {
    do {
      entry.again = false;
      try {
        const raw = await api('GET', '/v1/alerts/' + id);
        const a = alertOf(raw);
        if (a.open) app.alerts.set(id, a); else app.alerts.delete(id);
        if (app.view === 'alert' && app.alertView.id === id) app.alertView.show(raw);
      } catch (e) {
        if (e instanceof APIError && e.status === 404) app.alerts.delete(id);
        else if (!(e instanceof APIError && e.status === 401)) break;
      }
    } while (entry.again);
    app.refreshing.delete(id);
    renderQueue(app);
  })();
  app.refreshing.set(id, entry);
  return entry.done;
}

// seen confirms an alert event was shown. A hidden page has shown nothing:
// its receipts wait until it is visible, so escalation moves on without
// this person meanwhile.
function seen(alertID, eventID) {
  if (!app.live || !app.alerts.has(alertID)) return;
  if (document.visibilityState !== 'visible') {
    app.unseen.push([alertID, eventID]);
    return;
  }
  app.live.seen(alertID, eventID);
}

function flushSeen() {
  if (document.visibilityState !== 'visible' || !app.live) return;
  for (const [a, e] of app.unseen.splice(0)) if (app.alerts.has(a)) app.live.seen(a, e);
}

// onStatus shows whether alerts are arriving. Not live: the banner (which
// stays in view), the tab's title, and ages that stop and grey, so nobody
// reads a stale queue as a current one.
function onStatus(online) {
  const was = app.online;
  app.online = online;
  if (!online && (was || !app.offlineSince)) app.offlineSince = app.lastLive || Date.now();
  if (online) { app.offlineSince = 0; app.lastLive = Date.now(); }
  const stale = !online && !app.readOnly;
  $('#banner-offline').hidden = !stale;
  if (stale) {
    $('#offline-detail').textContent = app.lastLive
      ? `Last live at ${clock(app.lastLive)}. What is shown may be out of date.`
      : 'What is shown may be out of date.';
  }
  document.body.classList.toggle('offline', !online);
  document.body.classList.toggle('stale', stale);
  // When the page stopped being live (for the tests, and the curious).
  if (stale && !document.body.dataset.staleSince) document.body.dataset.staleSince = String(Date.now());
  if (!stale) delete document.body.dataset.staleSince;
  document.body.dataset.live = online ? 'on' : 'off';
  updateTitle();
  if (online) {
    tickAges(document);
    loadQueueIfStale();
  }
}

// updateTitle puts the queue count in the tab's title, or that alerts are
// not arriving.
function updateTitle() {
  const n = app.alerts.size;
  if (app.me && has('responder') && !app.online && !app.readOnly) document.title = 'Not receiving alerts \u2014 Waymark';
  else document.title = n && has('responder') ? `(${n}) Waymark` : 'Waymark';
}

// After a reconnect the replay brings every missed event; a list read as
// well costs little and heals anything a replay could not.
let lastLoad = 0;
function loadQueueIfStale() {
  if (Date.now() - lastLoad < 2000) return;
  lastLoad = Date.now();
  loadQueue();
}

// updateSoundButton offers to turn the sound on while the browser keeps
// it off (after a reload, until the first tap or key).
function updateSoundButton() {
  $('#sound-enable').hidden = !(app.me && has('responder')) || app.alarm.ready();
}

function updateNotifyButton() {
  $('#notify-enable').hidden = !(has('responder') && Alarm.notifyState() === 'default');
}

// --- screens ---------------------------------------------------------------

function go(hash, replace) {
  if (replace) history.replaceState(null, '', hash);
  else if (location.hash !== hash) location.hash = hash;
  else route();
}

function route() {
  if (!app.me) return;
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  let view = parts[0] || 'queue';
  if (view === 'queue' && !has('responder')) view = has('caseworker') ? 'cases' : 'directory';
  if (view === 'admin' && !has('admin')) view = 'directory';
  if (view === 'coord' && !(has('admin') || has('coordinator'))) view = 'directory';
  if (view === 'refuge' && !has('refuge')) view = 'directory';
  const views = ['queue', 'alert', 'cases', 'directory', 'refuge', 'coord', 'admin'];
  if (!views.includes(view)) view = 'queue';
  app.view = view;
  for (const v of views) $('#view-' + v).hidden = v !== view;
  for (const t of document.querySelectorAll('#nav .tab')) {
    const cur = t.dataset.view === view || (view === 'alert' && t.dataset.view === 'queue');
    if (cur) t.setAttribute('aria-current', 'page'); else t.removeAttribute('aria-current');
  }
  if (view !== 'alert') app.alertView.close();
  switch (view) {
    case 'queue':
      renderQueue(app);
      break;
    case 'alert':
      if (validAlertID(parts[1])) app.alertView.open(parts[1]);
      else go('#/queue', true);
      break;
    case 'cases':
      app.casesView.open(validCaseID(parts[1]) ? parts[1] : parts[1] === 'new' ? 'new' : '');
      break;
    case 'directory':
      app.directoryView.open();
      break;
    case 'admin':
      app.adminView.open();
      break;
    case 'refuge':
      app.refugeView.open();
      break;
    case 'coord':
      app.coordView.open(['rota', 'policies', 'staff', 'teams', 'directory'].includes(parts[1]) ? parts[1] : '');
      break;
  }
}

boot();
