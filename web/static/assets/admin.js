// admin.js is the admin's screen: the commissioners' report for a period
// (counts, shares and response times; small counts are already masked by
// the server as "<5") and its weekly chart. Nothing here names a survivor
// or carries free text: admins see figures only.

import { api, message } from './api.js';
import { h, clear, $ } from './dom.js';

// secs turns a percentile in seconds into "4 min 10 s".
function secs(v) {
  if (v === null || v === undefined) return 'withheld';
  const s = Math.round(v);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function share(sh) {
  if (!sh) return 'none';
  return sh.percent ? `${sh.count} (${sh.percent})` : String(sh.count);
}

function latency(l) {
  if (!l) return 'not measured';
  return `median ${secs(l.p50_seconds)}, 90% within ${secs(l.p90_seconds)} (${l.measured} measured)`;
}

function tallies(title, list) {
  return h('section', { class: 'more' }, h('h2', {}, title),
    list && list.length
      ? h('dl', { class: 'facts' }, list.map((t) => [h('dt', {}, t.name || 'not recorded'), h('dd', {}, String(t.count))]))
      : h('p', { class: 'hint' }, 'None in this period.'));
}

export class AdminView {
  constructor(app) {
    this.app = app;
    this.root = $('#view-admin');
  }

  async open() {
    const root = clear(this.root);
    root.append(h('h1', { id: 'admin-title' }, 'Commissioners\u2019 report'));
    const body = h('div', { id: 'report', 'aria-live': 'polite' }, h('p', { class: 'hint' }, 'Loading\u2026'));
    root.append(body);
    let rep;
    try {
      rep = await api('GET', '/v1/reports/summary');
    } catch (e) {
      fillError(body, message(e));
      return;
    }
    clear(body).append(
      h('p', { id: 'report-period' }, `${rep.from} to ${rep.to}${rep.area ? ' \u00b7 ' + rep.area : ''}`),
      h('dl', { class: 'facts', id: 'report-summary' },
        h('dt', {}, 'Alerts closed'), h('dd', { id: 'report-alerts' }, String(rep.alerts)),
        h('dt', {}, 'Out of hours'), h('dd', {}, share(rep.out_of_hours)),
        h('dt', {}, 'Repeat alerts'), h('dd', {}, share(rep.repeat_alerts)),
        h('dt', {}, 'Time to first receipt'), h('dd', {}, latency(rep.time_to_first_receipt)),
        h('dt', {}, 'Time to claim'), h('dd', {}, latency(rep.time_to_claim)),
        h('dt', {}, 'Time to first contact'), h('dd', {}, latency(rep.time_to_first_contact))),
      h('figure', { class: 'chart' },
        // Same origin: the CSP's img-src 'self' allows it; as an image the
        // SVG can run nothing.
        h('img', { id: 'report-chart', src: '/v1/reports/chart.svg', alt: 'Alerts per week and median time to claim for the period' }),
        h('figcaption', { class: 'hint' }, 'Alerts per week, with the median time to claim.')),
      tallies('By source', rep.by_source),
      tallies('By kind', rep.by_kind),
      tallies('By DASH risk', rep.by_risk_level),
      tallies('By outcome', rep.by_outcome),
      h('section', { class: 'more' }, h('h2', {}, 'Notes'),
        h('ul', {}, (rep.notes || []).map((n) => h('li', {}, n)))));
  }
}

function fillError(el, text) {
  clear(el).append(h('p', { class: 'error', role: 'alert' }, text));
}
