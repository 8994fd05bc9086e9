// sw.js is the dashboard's service worker. Its only job is Web Push: when
// escalation wakes a responder's browser while the dashboard is closed, it
// shows a system notification that says "New alert" and nothing else. The
// payload is never read: a lock screen is no place for a name, a kind or a
// number, and the server sends nothing worth showing anyway. Tapping the
// notification brings the dashboard forward (or opens it). Nothing is
// cached and no request is intercepted: the dashboard always comes fresh
// from the server.

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  event.waitUntil(self.registration.showNotification('New alert', {
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
