// Storage, the outbox and the API. What the app keeps lives in IndexedDB
// ("k"): the enrolment, the look and preferences in "kv", unsent requests
// in "o". When storage is refused (private browsing) it all lives in
// memory for as long as the page is open, and requests are still sent.
//
// Every request that changes something on the server goes through the
// outbox: written with its request_id before any network call, sent at
// once, retried with backoff, deleted only on a 2xx or a permanent 4xx.
// The server makes a repeated request_id one request, so sending one
// twice is harmless; losing one is not.
const MAX = 200; // entries kept; location updates are dropped first
const KEEP = new Set(['press', 'checkin', 'cancel']); // never dropped

let dbp = null;
const mem = { kv: new Map(), o: new Map() };

function db() {
  if (!dbp) {
    dbp = new Promise((res) => {
      try {
        const r = indexedDB.open('k', 1);
        r.onupgradeneeded = () => {
          r.result.createObjectStore('kv');
          r.result.createObjectStore('o');
        };
        r.onsuccess = () => res(r.result);
        r.onerror = () => res(null);
        r.onblocked = () => res(null);
      } catch {
        res(null);
      }
    });
  }
  return dbp;
}

// op runs one request on a store and resolves to its result, falling back
// to memory when IndexedDB is not there or fails.
async function op(store, mode, f, m) {
  const d = await db();
  if (!d) return m(mem[store]);
  return new Promise((res) => {
    try {
      const t = d.transaction(store, mode);
      const r = f(t.objectStore(store));
      t.oncomplete = () => res(r.result);
      t.onerror = t.onabort = () => res(m(mem[store]));
    } catch {
      res(m(mem[store]));
    }
  });
}

export const get = (s, k) => op(s, 'readonly', (o) => o.get(k), (m) => m.get(k));
export const put = (s, k, v) => op(s, 'readwrite', (o) => o.put(v, k), (m) => m.set(k, v));
export const del = (s, k) => op(s, 'readwrite', (o) => o.delete(k), (m) => m.delete(k));
export const all = (s) => op(s, 'readonly', (o) => o.getAll(), (m) => [...m.values()]);
const clearStore = (s) => op(s, 'readwrite', (o) => o.clear(), (m) => m.clear());

// b64u encodes bytes as unpadded base64url.
export function b64u(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// VEIL is the alphabet of the server's veil (disguise/veil.go): base32
// that can spell no word.
const VEIL = 'bcdfghjkmnpqrstwxzBCDFGHJKMNPQRS';

// unveil decodes veiled text to bytes; it throws on a stray character.
function unveil(s) {
  const out = [];
  let val = 0;
  let bits = 0;
  for (const ch of s) {
    const i = VEIL.indexOf(ch);
    if (i < 0) throw new TypeError('v');
    val = ((val << 5) | i) & 0x1fff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((val >> bits) & 0xff);
    }
  }
  return new Uint8Array(out);
}

// unv decodes the {"v": veiled JSON} wrapping some answers use.
export function unv(o) {
  try {
    return JSON.parse(new TextDecoder().decode(unveil(o.v)));
  } catch {
    return null;
  }
}

// rid is a fresh request id: 16 random bytes, 22 characters.
export function rid() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return b64u(b);
}

// Enrolment: {token, device_id}. Kept in a variable as well, so that a
// page without storage still works.
let enr;
export async function enrolment() {
  if (enr === undefined) enr = (await get('kv', 'e')) || null;
  return enr;
}
export async function setEnrolment(e) {
  enr = e;
  await put('kv', 'e', e);
}

const lost = new Set();
// onLost calls f when the server no longer knows this phone.
export const onLost = (f) => lost.add(f);

// forget drops the enrolment and whatever waits to be sent with it.
export async function forget() {
  enr = null;
  await del('kv', 'e');
  await clearStore('o');
  for (const f of lost) f();
}

// api makes one call now (not through the outbox) and resolves to
// {status, body}; status 0 when the network failed.
export async function api(method, path, body, ms = 15000, auth = true) {
  const e = auth ? await enrolment() : null;
  const h = { 'Content-Type': 'application/json' };
  if (e) h.Authorization = 'Bearer ' + e.token;
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  try {
    const r = await fetch(path, {
      method, headers: h, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit', signal: ac.signal,
    });
    let j = null;
    try { j = await r.json(); } catch { /* no body */ }
    if (r.status === 401 && e) await forget();
    return { status: r.status, body: j };
  } catch {
    return { status: 0, body: null };
  } finally {
    clearTimeout(t);
  }
}

const done = new Set();
// onDone calls f(body, status) for each outbox entry the server took.
export const onDone = (f) => done.add(f);

let seq = 0;
// queue writes a request to the outbox, then starts sending it. It
// resolves once the entry is stored (or kept in memory).
export async function queue(method, path, body) {
  body.request_id = rid();
  const e = { id: body.request_id, method, path, body, at: Date.now(), seq: seq++ };
  await put('o', e.id, e);
  await trim();
  flush();
  return e.id;
}

// trim keeps the outbox under MAX: oldest location updates first, then
// other optional requests, never a press, check-in or cancel.
async function trim() {
  const list = await all('o');
  if (list.length <= MAX) return;
  const order = (e) => (e.body.kind === 'location' ? 0 : 1);
  const drop = list.filter((e) => !KEEP.has(e.body.kind))
    .sort((a, b) => order(a) - order(b) || a.at - b.at || a.seq - b.seq)
    .slice(0, list.length - MAX);
  for (const e of drop) await del('o', e.id);
}

let busy = null;
let again = false;
let timer = 0;
let wait = 0;

// flush sends what waits in the outbox, oldest first, one at a time, so a
// press always reaches the server before its location. One flush runs at
// a time in this page, and, through a Web Lock, across the page and the
// service worker.
export function flush() {
  if (busy) {
    again = true;
    return busy;
  }
  clearTimeout(timer);
  const run = () => send();
  busy = (navigator.locks ? navigator.locks.request('o', run) : run())
    .catch(() => false)
    .then((ok) => {
      busy = null;
      if (again) {
        again = false;
        return flush();
      }
      if (ok === false) retry();
      else wait = 0;
      return ok;
    });
  return busy;
}

// retry schedules the next flush with backoff (1 s doubling to 30 s), and
// asks for Background Sync so the worker can send after the page closes.
function retry() {
  wait = Math.min(wait ? wait * 2 : 1000, 30000);
  clearTimeout(timer);
  timer = setTimeout(flush, wait);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.ready.then((r) => r.sync && r.sync.register('o')).catch(() => {});
  }
}

// send tries every entry once; it resolves to false if something is left
// to retry.
async function send() {
  const e = await enrolment();
  if (!e) return true;
  const list = (await all('o')).sort((a, b) => a.at - b.at || a.seq - b.seq);
  for (const x of list) {
    let st = 0;
    // A request the network swallows must not hold the outbox (and its
    // lock) forever.
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 20000);
    try {
      const r = await fetch(x.path, {
        method: x.method, cache: 'no-store', credentials: 'omit', signal: ac.signal,
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + e.token },
        body: JSON.stringify(x.body),
      });
      st = r.status;
    } catch { /* offline: keep it */ } finally {
      clearTimeout(t);
    }
    if (st === 401) {
      await forget();
      return true;
    }
    if ((st >= 200 && st < 300) || (st >= 400 && st < 500 && st !== 408 && st !== 429)) {
      await del('o', x.id);
      for (const f of done) f(x.body, st);
      continue;
    }
    return false; // 0, 408, 429, 5xx: later, and nothing after it overtakes it
  }
  return true;
}

// wipe removes everything the app keeps on the phone: storage, caches
// and the service worker.
export async function wipe() {
  enr = null;
  mem.kv.clear();
  mem.o.clear();
  // The worker first, so that it cannot fill a cache after it is gone.
  try {
    for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
  } catch { /* no worker */ }
  try {
    for (const k of await caches.keys()) await caches.delete(k);
  } catch { /* no caches */ }
  const d = await db();
  if (d) d.close();
  dbp = null;
  await new Promise((res) => {
    try {
      const r = indexedDB.deleteDatabase('k');
      r.onsuccess = r.onerror = r.onblocked = () => res();
    } catch {
      res();
    }
  });
}
