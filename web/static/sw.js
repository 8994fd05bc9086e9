// sw.js is the dashboard's service worker. Its only job is Web Push: when
// escalation wakes a responder's browser while the dashboard is closed, it
// shows a system notification that says "New alert" and nothing else (a
// drill's says "DRILL: New alert"). Of the payload only a drill's label is
// read: a lock screen is no place for a name, a kind or a number, and the
// server sends nothing worth showing anyway. Tapping the
// notification brings the dashboard forward (or opens it). Nothing is
// cached and no request is intercepted: the dashboard always comes fresh
// from the server.

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

// title: the one thing read from a payload: a drill's pages say
// DRILL (only that exact word is honoured; anything else is "New alert").
function title(event) {
  try {
    if (event.data && event.data.json().label === 'DRILL') return 'DRILL: New alert';
  } catch (e) {
    // Not JSON: an ordinary alert.
  }
  return 'New alert';
}

self.addEventListener('push', (event) => {
  event.waitUntil(self.registration.showNotification(title(event), {
    tag: 'waymark-new-alert',
    renotify: true,
    requireInteraction: true,
  }));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil((async () => {
    const wins = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const w of wins) {
      if (new URL(w.url).origin === self.location.origin && 'focus' in w) {
        await w.focus();
        return;
      }
    }
    await self.clients.openWindow('/');
  })());
});
