// The page: chooses the look, mounts its disguise, plugs in the hidden
// machinery, enrols from the code 0.js took out of the address, and
// registers the service worker.
import { mount as calculator } from './c.js';
import { mount as converter } from './v.js';
import { attach, close, install } from './h.js';
import { api, flush, get, put, setEnrolment } from './q.js';

const LOOKS = {
  calculator: { name: 'Calculator', theme: '#000000', mount: calculator },
  converter: { name: 'Converter', theme: '#f2efe8', mount: converter },
};
const ICONS = ['1', '2', '3'];
const CODE = /^[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{8}$/;

const root = document.getElementById('app');
let current = null;
let wiped = false;

// look checks a look from the server or storage, as the manifest does.
function look(l) {
  const kind = l && LOOKS[l.kind] ? l.kind : 'calculator';
  const name = l && typeof l.name === 'string' && /^[\p{L}\p{N} ]{1,20}$/u.test(l.name) && l.name.trim() ? l.name : LOOKS[kind].name;
  const icon = l && ICONS.includes(String(l.icon)) ? String(l.icon) : '1';
  return { kind, name, icon };
}

function attr(sel, name, v) {
  const e = document.querySelector(sel);
  if (e) e.setAttribute(name, v);
}

// apply shows a look: its disguise, title, manifest, icon and colour.
function apply(l) {
  const key = l.kind + '|' + l.name + '|' + l.icon;
  if (key === current) return;
  const kindChanged = !current || current.split('|')[0] !== l.kind;
  current = key;
  document.documentElement.dataset.look = l.kind;
  document.title = l.name;
  attr('link[rel=manifest]', 'href', '/manifest.webmanifest?' + new URLSearchParams({ look: l.kind, name: l.name, icon: l.icon }));
  attr('link[rel=icon]', 'href', '/a/i' + l.icon + '-192.png');
  attr('link[rel=apple-touch-icon]', 'href', '/a/i' + l.icon + '-192.png');
  attr('meta[name=theme-color]', 'content', LOOKS[l.kind].theme);
  attr('meta[name=apple-mobile-web-app-title]', 'content', l.name);
  if (kindChanged) {
    close();
    attach(LOOKS[l.kind].mount(root), hooks);
  }
}

let pending = null;

// enrol trades a code for a device token. A wrong, expired or used code
// changes nothing; without a network the code is tried again when the
// network is back, for as long as the page is open (it is never stored).
async function enrol(code, chosen = null) {
  pending = null;
  const r = await api('POST', '/v1/app/enrol', { code }, 15000, false);
  if (r.status === 0 || r.status === 408 || r.status === 429 || r.status >= 500) {
    pending = { code, chosen };
    return;
  }
  const b = r.body;
  if (r.status !== 200 || !b || typeof b.token !== 'string' || !b.token) return;
  await setEnrolment({ token: b.token, device_id: b.device_id });
  // The look chosen at enrolment rides in the link (take); an answer that
  // names one would win.
  const l = look(b.look || chosen);
  await put('kv', 'l', l);
  apply(l);
  flush();
}

const hooks = {
  enrol,
  // fresh shows a new calculator after the phone was forgotten.
  fresh: () => {
    wiped = true;
    current = null;
    apply(look(null));
  },
};

function register() {
  if (wiped || !('serviceWorker' in navigator)) return;
  let url = '/sw.js';
  if (self.trustedTypes) {
    const p = trustedTypes.createPolicy('d', {
      createScriptURL: (u) => {
        if (u !== '/sw.js') throw new TypeError('url');
        return u;
      },
    });
    url = p.createScriptURL('/sw.js');
  }
  navigator.serviceWorker.register(url, { scope: '/' }).catch(() => {});
}

// take reads an enrolment code from the address, once.
// The fragment is "CODE", or "c=CODE&look=…&name=…&icon=…" with the look
// the caseworker chose at enrolment: it rides in the link, so the
// server keeps none of it.
function take(h) {
  let c = '';
  try {
    c = decodeURIComponent(h);
  } catch {
    return { code: '', chosen: null };
  }
  let chosen = null;
  if (c.includes('=')) {
    const p = new URLSearchParams(c);
    chosen = { kind: p.get('look'), name: p.get('name'), icon: p.get('icon') };
    c = p.get('c') || '';
  }
  return { code: c.toUpperCase().replace(/[\s-]/g, ''), chosen };
}

async function start() {
  const { code, chosen } = take(self.k0 || '');
  delete self.k0;
  // The link opened again in a tab where the app already runs.
  addEventListener('hashchange', () => {
    const h = location.hash.slice(1);
    if (!h) return;
    history.replaceState(null, '', '/');
    const t = take(h);
    if (CODE.test(t.code)) enrol(t.code, t.chosen);
  });
  install();
  apply(look(await get('kv', 'l')));
  addEventListener('online', () => pending && enrol(pending.code, pending.chosen));
  if (CODE.test(code)) await enrol(code, chosen);
  flush();
  register();
}

start();
