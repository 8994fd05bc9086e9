// directory.js is the helpline screen: find the right local or national
// service fast, by postcode, need, language, audience and "open now".
// Refuge addresses never reach the page: a confidential service shows only
// its district and its gateway contact, and no distance.

import { api, message } from './api.js';
import { h, clear, $, field, showFieldErrors } from './dom.js';
import { date } from './model.js';
import { vacancyText } from './refuge.js';

const CATEGORIES = [
  ['', 'Any kind of service'], ['domestic-abuse', 'Domestic abuse'], ['helpline', 'Helpline'], ['refuge', 'Refuge'],
  ['idva-isva', 'IDVA / ISVA'], ['outreach', 'Outreach'], ['children-young-people', 'Children and young people'],
  ['male-victims', 'Male victims'], ['lgbt', 'LGBT+'], ['forced-marriage-honour', 'Forced marriage and honour-based abuse'],
  ['sexual-violence', 'Sexual violence'], ['sanctuary-scheme', 'Sanctuary scheme'], ['legal', 'Legal'],
  ['housing', 'Housing'], ['mental-health', 'Mental health'], ['substance-use', 'Substance use'],
  ['perpetrator-programme', 'Perpetrator programme'], ['emergency', 'Emergency'],
];
const AUDIENCES = [
  ['women', 'Women'], ['men', 'Men'], ['lgbt', 'LGBT+'], ['children', 'Accepts children'], ['young-people', 'Young people'],
  ['nrpf', 'No recourse to public funds'], ['wheelchair', 'Wheelchair access'], ['deaf', 'Deaf / BSL'],
];

export class DirectoryView {
  constructor(app) {
    this.app = app;
    this.root = $('#view-directory');
    this.built = false;
  }

  open() {
    if (!this.built) this.build();
  }

  build() {
    this.built = true;
    const near = h('input', { name: 'near', id: 'dir-near', autocomplete: 'off', maxlength: '10', autocapitalize: 'characters' });
    const cat = h('select', { name: 'category', id: 'dir-category' }, CATEGORIES.map(([v, l]) => h('option', { value: v }, l)));
    const lang = h('input', { name: 'language', id: 'dir-language', maxlength: '8' });
    const q = h('input', { name: 'q', id: 'dir-q', type: 'search', maxlength: '200' });
    const openNow = h('input', { type: 'checkbox', name: 'open_now', id: 'dir-open-now' });
    this.results = h('div', { id: 'dir-results', 'aria-live': 'polite' });
    const form = h('form', { id: 'dir-form', role: 'search', novalidate: true, on: { submit: (e) => this.search(e) } },
      h('h1', { id: 'directory-title' }, 'Find a service'),
      h('div', { class: 'row' },
        field('Postcode, sector or district', near, 'e.g. SO14 3 or SO14'),
        field('Kind of service', cat)),
      h('div', { class: 'row' },
        field('Language (ISO code, e.g. ur)', lang),
        field('Words', q)),
      h('fieldset', { 'data-field': 'audience' }, h('legend', {}, 'For'),
        h('div', { class: 'days' }, AUDIENCES.map(([v, l]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'audience', value: v }), l))),
        h('div', { class: 'field-error', hidden: true })),
      h('label', { class: 'check' }, openNow, 'Open now'),
      h('button', { type: 'submit', class: 'primary wide' }, 'Search'));
    clear(this.root).append(form, this.results);
  }

  async search(ev) {
    ev.preventDefault();
    const f = ev.target;
    const p = new URLSearchParams();
    const near = f.near.value.trim();
    if (near) p.set('near', near);
    if (f.category.value) p.set('category', f.category.value);
    if (f.language.value.trim()) p.set('language', f.language.value.trim().toLowerCase());
    if (f.q.value.trim()) p.set('q', f.q.value.trim());
    for (const a of f.querySelectorAll('input[name=audience]:checked')) p.append('audience', a.value);
    if (f.open_now.checked) p.set('open_now', 'true');
    const out = clear(this.results);
    out.append(h('p', { class: 'hint' }, 'Searching\u2026'));
    try {
      const res = await api('GET', '/v1/directory/search?' + p.toString());
      showFieldErrors(f, []);
      this.render(res || {});
    } catch (e) {
      const rest = showFieldErrors(f, e.fields);
      clear(out).append(h('p', { class: 'error', role: 'alert' }, rest.length ? rest.map((x) => `${x.field}: ${x.problem}`).join('; ') : message(e)));
    }
  }

  render(res) {
    const out = clear(this.results);
    const list = res.results || [];
    out.append(h('h2', {}, `${list.length} service${list.length === 1 ? '' : 's'}${res.origin && res.origin.area ? ' near ' + res.origin.area : ''}`));
    for (const n of res.notes || []) out.append(h('p', { class: 'panel' }, n));
    out.append(h('ul', { class: 'list', id: 'dir-list' }, list.map(service)));
  }
}

function service(s) {
  const open = s.open_known ? (s.open_now ? 'Open now' : 'Closed now') : 'Hours not known';
  const where = s.confidential_address
    ? `Confidential address${s.district ? ' (' + s.district + ' area)' : ''}; contact through the gateway`
    : [s.district, s.distance_km !== undefined && s.distance_km !== null ? `${s.distance_km.toFixed(1)} km` : ''].filter(Boolean).join(' \u00b7 ');
  const phones = (s.phones || []).map((p) => h('a', { href: 'tel:' + p.number.replace(/[^0-9+]/g, '') }, p.number + (p.description ? ` (${p.description})` : '')));
  const gw = s.gateway ? h('div', {}, 'Gateway: ', s.gateway.name || '', ' ',
    s.gateway.phone ? h('a', { href: 'tel:' + s.gateway.phone.replace(/[^0-9+]/g, '') }, s.gateway.phone) : '') : null;
  // Spaces with the age of the report, from the refuge's own staff:
  // stale past a day, and said so, not only coloured.
  const vac = s.vacancies ? h('div', { class: s.vacancies.stale ? 'vacancies stale' : 'vacancies' }, `Vacancies: ${vacancyText(s.vacancies)}`) : null;
  return h('li', { class: 'svc' },
    h('span', { class: 'name' }, s.name, s.national ? ' (national)' : ''),
    s.organisation && s.organisation !== s.name ? h('span', { class: 'hint' }, s.organisation) : null,
    h('span', { class: 'open' }, open),
    where ? h('span', {}, where) : null,
    phones.length ? h('div', {}, phones.flatMap((a, i) => (i ? [', ', a] : [a]))) : null,
    gw, vac,
    s.url ? h('a', { href: s.url, rel: 'noopener noreferrer', target: '_blank' }, 'Website') : null,
    s.description ? h('p', { class: 'hint' }, s.description) : null,
    s.last_verified ? h('span', { class: 'hint' }, `Verified ${date(s.last_verified)}`) : null);
}
