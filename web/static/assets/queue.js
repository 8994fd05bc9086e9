// queue.js draws the open alerts, most urgent first, each with a live age.
// An item shows what a responder needs to pick one: the kind (in words,
// with an icon and a colour), the alias, the age, the risk and who has
// claimed it. Never a phone number, code word or note.

import { h, clear, $ } from './dom.js';
import { svgIcon } from './icons.js';
import { KINDS, age, ageWords, compare, stateText } from './model.js';

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
  const risk = a.risk ? h('span', {}, `Risk: ${a.risk}`) : null;
  const label = `${a.mode ? a.mode.toUpperCase() + ' ' : ''}${k.label} alert, ${a.alias || 'no alias'}, raised ${ageWords(a.raisedAt)}, ${claimed ? stateText(a, app.me) : 'unclaimed'}`;
  const btn = h('button', {
    type: 'button',
    class: `qitem ${a.kind}`,
    'data-alert': a.id,
    'data-state': a.state,
    'aria-label': label,
    on: { click: () => { location.hash = '#/alert/' + a.id; } },
  },
  h('span', { class: 'kind' }, svgIcon(k.icon), k.label),
  h('span', { class: 'alias' }, a.alias || 'Unknown sender'),
  h('time', { class: 'age', 'data-since': String(a.raisedAt), datetime: new Date(a.raisedAt || 0).toISOString() }, age(a.raisedAt)),
  h('span', { class: 'meta' }, modeTag(a), status, risk, a.expiredCase ? h('span', { class: 'tag' }, 'Expired case') : null));
  return h('li', {}, btn);
}

// modeTag labels a drill or a practice alert, so nobody takes one for real
// (or a real one for a drill).
export function modeTag(a) {
  if (a.mode !== 'drill' && a.mode !== 'practice') return null;
  return h('span', { class: `tag ${a.mode}`, 'data-mode': a.mode }, a.mode.toUpperCase());
}

// tickAges moves every live age counter on the page on by a second.
export function tickAges(root) {
  const now = Date.now();
  for (const t of root.querySelectorAll('time[data-since]')) {
    const s = Number(t.dataset.since);
    if (s) t.textContent = age(s, now);
  }
}
