// The service worker: keeps the app's files so that it opens offline as a
// working calculator, and sends what waits in the outbox when Background
// Sync says the network is back. It never touches the API's answers.
//
// The server fills in the list of files and the version (a hash of the
// files), so that any change to a file installs a new worker and a new
// cache, and the old caches go when it activates.
const FILES = ["@files"];
const VERSION = "@version";
const CACHE = 'c-' + VERSION;

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((ks) => Promise.all(ks.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const u = new URL(e.request.url);
  if (e.request.method !== 'GET' || u.origin !== location.origin || u.pathname.startsWith('/v1/')) return;
  const key = e.request.mode === 'navigate' ? '/' : u.pathname === '/manifest.webmanifest' ? null : e.request;
  if (key === null) {
    // The manifest depends on its query: the network first, the cached
    // default when offline.
    e.respondWith(fetch(e.request).catch(() => caches.match('/manifest.webmanifest', { ignoreSearch: true })));
    return;
  }
  // caches.match, not caches.open: a worker that lingers after the phone
  // was forgotten must not make its cache again.
  e.respondWith(caches.match(key, { ignoreSearch: true, cacheName: CACHE })
    .then((hit) => hit || fetch(e.request)));
});

self.addEventListener('sync', (e) => {
  if (e.tag === 'o') e.waitUntil(navigator.locks ? navigator.locks.request('o', send) : send());
});

// The outbox, as q.js keeps it; send mirrors q.js's send (a worker that
// must run in every browser cannot import a module), and one Web Lock
// keeps the page and the worker from sending at the same time.
function req(r) {
  return new Promise((res, rej) => {
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

async function send() {
  const open = indexedDB.open('k', 1);
  open.onupgradeneeded = () => {
    open.result.createObjectStore('kv');
    open.result.createObjectStore('o');
  };
  const db = await req(open);
  try {
    const store = (name, mode) => db.transaction(name, mode).objectStore(name);
    const e = await req(store('kv', 'readonly').get('e'));
    if (!e) return;
    const list = (await req(store('o', 'readonly').getAll())).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const x of list) {
      let st = 0;
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), 20000);
      try {
        const r = await fetch(x.path, {
          method: x.method, cache: 'no-store', credentials: 'omit', signal: ac.signal,
          headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + e.token },
          body: JSON.stringify(x.body),
        });
        st = r.status;
      } catch (err) { /* offline */ } finally {
        clearTimeout(t);
      }
      if (st === 401) {
        await req(store('kv', 'readwrite').delete('e'));
        await req(store('o', 'readwrite').clear());
        return;
      }
      if ((st >= 200 && st < 300) || (st >= 400 && st < 500 && st !== 408 && st !== 429)) {
        await req(store('o', 'readwrite').delete(x.id));
        continue;
      }
      throw new Error('later'); // Background Sync tries again
    }
  } finally {
    db.close();
  }
}
