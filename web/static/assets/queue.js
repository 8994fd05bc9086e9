// queue.js draws the open alerts, most urgent first, each with a live age.
// An item shows what a responder needs to pick one: the kind (in words,
// with an icon and a colour), the alias, how long it has waited, what
// raised it (text, app, check-in), the contact verdict, the district, the
// risk ("not assessed" for an unknown sender), who has claimed it, and
// "Overdue" once the first step of its policy has passed unclaimed. Never
// a phone number, code word, note or the location itself.

import { h, clear, $ } from './dom.js';
import { svgIcon } from './icons.js';
import { KINDS, SOURCES, VERDICTS, age, compare, heldWords, overdue, stateText } from './model.js';

export function renderQueue(app) {
  const list = $('#queue');
  const items = [...app.alerts.values()].sort(compare);
  const count = $('#queue-count');
  count.textContent = items.length ? String(items.length) : '';
  $('#queue-empty').hidden = items.length > 0;
  // Keep focus on the same alert across redraws: the queue changes under
  // a keyboard user's fingers.
  const focused = document.activeElement && document.activeElement.dataset && document.activeElement.dataset.alert;
  clear(list);
  for (const a of items) list.appendChild(item(app, a));
  if (app.updateTitle) app.updateTitle();
  if (focused) {
    const el = list.querySelector(`[data-alert="${CSS.escape(focused)}"]`);
    if (el) el.focus();
  }
}

function item(app, a) {
  const k = KINDS[a.kind] || KINDS.panic;
  const claimed = a.state === 'acknowledged' || a.state === 'working';
  const status = claimed
    ? h('span', { class: 'tag claimed' }, stateText(a, app.me))
    : h('span', { class: 'tag new' }, a.followUp ? 'Welfare follow-up due' : 'Unclaimed');
  const risk = h('span', { class: 'risk' }, a.assessed || a.mode === 'drill'
    ? `Risk: ${a.risk || 'not recorded'}` : 'Risk: not assessed');
  const v = VERDICTS[a.verdict];
  const late = overdue(a);
  // No aria-label: the card's own words are its name, so what is read out
  // is what is shown (WCAG 2.5.3), risk and all.
  const btn = h('button', {
    type: 'button',
    class: `qitem ${a.kind}${late ? ' overdue' : ''}`,
    'data-alert': a.id,
    'data-state': a.state,
    'data-overdue-at': a.overdueAt && a.state === 'raised' && !a.owner ? String(a.overdueAt) : null,
    on: { click: () => { location.hash = '#/alert/' + a.id; } },
  },
  h('span', { class: 'kind' }, svgIcon(k.icon), k.label, h('span', { class: 'sr-only' }, ' alert,')),
  h('span', { class: 'alias' }, a.alias || 'Unknown sender'),
  h('span', { class: 'waited' }, h('span', { class: 'sr-only' }, 'waiting '),
    h('time', { class: 'age', 'data-since': String(a.raisedAt), datetime: new Date(a.raisedAt || 0).toISOString() }, age(a.raisedAt))),
  h('span', { class: 'facts-line' },
    h('span', { class: 'source', 'data-source': a.source || '' }, SOURCES[a.source] || 'Unknown source'),
    held(a),
    v ? h('span', { class: `vtag ${v.cls}`, 'data-verdict': a.verdict }, svgIcon(v.icon), v.short) : null,
    h('span', { class: 'district' }, a.district ? `Near ${a.district}` : 'No location')),
  h('span', { class: 'meta' }, modeTag(a),
    h('span', { class: 'tag overdue-tag', hidden: !late }, svgIcon('clock'), 'Overdue'),
    status, risk, a.expiredCase ? h('span', { class: 'tag' }, 'Expired case') : null));
  return h('li', {}, btn);
}

// held says, for an alert the app's outbox held (no network), when the
// phone raised it and when it arrived; tickAges keeps it current.
export function held(a) {
  if (!a.phoneAt) return null;
  return h('span', { class: 'held', 'data-phone-at': String(a.phoneAt), 'data-arrived-at': String(a.raisedAt) },
    heldWords(a.phoneAt, a.raisedAt));
}

// modeTag labels a drill or a practice alert, so nobody takes one for real
// (or a real one for a drill).
export function modeTag(a) {
  if (a.mode !== 'drill' && a.mode !== 'practice') return null;
  return h('span', { class: `tag ${a.mode}`, 'data-mode': a.mode }, a.mode.toUpperCase());
}

// tickAges moves every live age counter on the page on by a second, and
// marks the queue cards that have just become overdue.
export function tickAges(root) {
  const now = Date.now();
  for (const t of root.querySelectorAll('time[data-since]')) {
    const s = Number(t.dataset.since);
    if (s) t.textContent = age(s, now);
  }
  for (const el of root.querySelectorAll('.held[data-phone-at]')) {
    el.textContent = heldWords(Number(el.dataset.phoneAt), Number(el.dataset.arrivedAt), now);
  }
  for (const b of root.querySelectorAll('.qitem[data-overdue-at]:not(.overdue)')) {
    if (now >= Number(b.dataset.overdueAt)) {
      b.classList.add('overdue');
      const tag = b.querySelector('.overdue-tag');
      if (tag) tag.hidden = false;
    }
  }
}
