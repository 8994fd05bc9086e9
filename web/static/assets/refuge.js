// refuge.js is the screen of a refuge's own staff: their refuge's
// vacancies, with how long ago they were last reported, and a form to say
// how many spaces there are now. Helpline staff see the same count and its
// age in a directory search; a report older than a day shows as stale.

import { api, APIError, message } from './api.js';
import { h, clear, $, field, showFieldErrors, announce, toast } from './dom.js';

// ago says how long ago t was, in words: "just now", "25 minutes ago",
// "3 hours ago", "2 days ago".
export function ago(t, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - Date.parse(t)) / 1000));
  if (s < 60) return 'just now';
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'} ago`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} hour${hrs === 1 ? '' : 's'} ago`;
  return `${Math.floor(hrs / 24)} days ago`;
}

// vacancyText is "2 spaces, updated 3 hours ago" (and "stale" past a day).
export function vacancyText(v) {
  if (!v) return 'No vacancies reported';
  const n = `${v.count} space${v.count === 1 ? '' : 's'}`;
  return `${n}, updated ${ago(v.updated_at)}${v.stale ? ' (stale: over a day old)' : ''}`;
}

export class RefugeView {
  constructor(app) {
    this.app = app;
    this.root = $('#view-refuge');
  }

  async open() {
    const root = clear(this.root);
    root.append(h('h1', { id: 'refuge-title' }, 'Vacancies'));
    let r;
    try {
      r = await api('GET', '/v1/refuge');
    } catch (e) {
      root.append(h('p', { class: 'error', role: 'alert' }, e instanceof APIError && e.status === 404
        ? 'Your account is not linked to a refuge yet. Ask your administrator to link it.'
        : message(e)));
      return;
    }
    const count = h('input', { id: 'vacancy-count', name: 'count', type: 'number', min: '0', max: '999', inputmode: 'numeric',
      value: r.vacancies ? String(r.vacancies.count) : '', required: true });
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { id: 'vacancy-form', novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      const n = Number(count.value);
      if (count.value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 999) {
        showFieldErrors(form, [{ field: 'count', problem: 'Give a whole number from 0 to 999.' }]);
        return;
      }
      try {
        await api('PUT', '/v1/refuge/vacancies', { count: n });
        toast('Vacancies saved: helpline staff see them now.');
        announce('Vacancies saved.');
        await this.open();
      } catch (ex) {
        const rest = showFieldErrors(form, ex.fields);
        err.textContent = rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : message(ex);
        err.hidden = false;
      }
    } } },
    field('Spaces free now', count, 'Helpline staff see this number and when you saved it. After a day it shows as stale.'),
    err,
    h('button', { type: 'submit', class: 'primary wide', id: 'vacancy-save' }, 'Save vacancies'));
    root.append(
      h('p', { class: 'lead', id: 'refuge-name' }, r.name, r.district ? ` (${r.district} area)` : ''),
      h('p', { id: 'refuge-vacancies', class: r.vacancies && r.vacancies.stale ? 'error' : '' }, vacancyText(r.vacancies)),
      form);
  }
}
