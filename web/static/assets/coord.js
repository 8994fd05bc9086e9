// coord.js is the coordinators' screen, for an administrator (every team)
// or a coordinator (their own teams): the rota as a week of who is on
// call, tier by tier, with the gaps in red, and its shifts to edit; the
// escalation policies; the staff accounts (create with a one-time setup
// link and its QR code, change roles, disable, enable); and, for an
// administrator, the teams. Every change is checked by the server with the
// CLI's own rules: a refusal comes back field by field and lands next to
// the field, and nothing is stored.

import { api, APIError, message } from './api.js';
import { h, clear, fill, $, field, showFieldErrors, announce, toast } from './dom.js';

const TIERS = [['primary', 'Primary'], ['secondary', 'Secondary'], ['duty-manager', 'Duty manager']];
const DAYS = [['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']];
// Go's time.Weekday: Sunday is 0.
const WEEKDAY = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const LEVELS = [['high', 'High risk (and every duress alert)'], ['medium', 'Medium risk'], ['standard', 'Standard risk and unknown senders']];
const WHOM = [['oncall:primary', 'On-call primary'], ['oncall:secondary', 'On-call secondary'], ['duty-manager', 'Duty manager'],
  ['case-owner', 'Case owner'], ['team', 'Whole team'], ['fallback', '24/7 fallback']];
const HOW = [['dashboard', 'Dashboard'], ['sms', 'Text'], ['voice', 'Phone call'], ['webpush', 'Notification']];
const ROLES = [['responder', 'Responder'], ['caseworker', 'Caseworker'], ['helpline', 'Helpline'], ['refuge', 'Refuge staff'], ['coordinator', 'Coordinator'], ['admin', 'Administrator']];
const london = { timeZone: 'Europe/London' };

const hhmm = (mins) => `${String(Math.floor(mins / 60) % 25).padStart(2, '0')}:${String(mins % 60).padStart(2, '0')}`;

export class CoordView {
  constructor(app) {
    this.app = app;
    this.root = $('#view-coord');
    this.team = '';
    this.staff = [];
    this.created = null; // the last new account's setup link, until dismissed
  }

  isAdmin() { return !!(this.app.me && this.app.me.roles.includes('admin')); }

  // teams is who the screen may manage: every team for an admin, else the
  // coordinator's own.
  async teams() {
    if (this.isAdmin()) {
      const res = await api('GET', '/v1/teams');
      return ((res && res.teams) || []).map((t) => t.id);
    }
    return (this.app.me && this.app.me.teams) || [];
  }

  async open(section) {
    // A later open wins: an earlier one still waiting draws nothing.
    const token = (this.opening = (this.opening || 0) + 1);
    const teams = await this.teams().catch(() => []);
    if (token !== this.opening) return;
    const root = clear(this.root);
    if (!this.team || !teams.includes(this.team)) this.team = teams[0] || '';
    const pick = h('select', { id: 'coord-team', name: 'team', on: { change: () => { this.team = pick.value; this.open(this.section); } } },
      teams.map((t) => h('option', { value: t, selected: t === this.team }, t)));
    this.section = section || this.section || 'rota';
    const tabs = [['rota', 'Rota'], ['policies', 'Escalation'], ['staff', 'Staff']];
    if (this.isAdmin()) tabs.push(['teams', 'Teams'], ['directory', 'Directory']);
    root.append(h('div', { class: 'view-head' },
      h('h1', { id: 'coord-title' }, 'Team set-up'),
      h('div', { class: 'field' }, h('label', { for: 'coord-team' }, 'Team'), pick)),
    h('nav', { class: 'subnav', 'aria-label': 'Team set-up sections' }, tabs.map(([k, label]) =>
      h('a', { href: `#/coord/${k}`, id: `coord-tab-${k}`, 'aria-current': k === this.section ? 'page' : null }, label))));
    const body = h('div', { id: 'coord-body' });
    root.append(body);
    if (!this.team && this.section !== 'teams' && this.section !== 'directory') {
      body.append(h('p', { class: 'hint' }, 'You coordinate no team yet.'));
      return;
    }
    try {
      this.staff = ((await api('GET', '/v1/staff')) || {}).staff || [];
      switch (this.section) {
        case 'rota': await this.rota(body); break;
        case 'policies': await this.policies(body); break;
        case 'staff': this.staffSection(body); break;
        case 'teams': await this.teamsSection(body); break;
        case 'directory': await this.directorySection(body); break;
      }
    } catch (e) {
      body.append(h('p', { class: 'error', role: 'alert' }, message(e)));
    }
  }

  nameOf(id) {
    const s = this.staff.find((x) => x.id === id || x.username === id);
    return s ? (s.display_name || s.username) : id;
  }

  usernameOf(id) {
    const s = this.staff.find((x) => x.id === id);
    return s ? s.username : id;
  }

  // --- rota -------------------------------------------------------------

  async rota(body) {
    let rota = null;
    try {
      rota = await api('GET', `/v1/teams/${encodeURIComponent(this.team)}/rota`);
    } catch (e) {
      if (!(e instanceof APIError && e.status === 404)) throw e;
    }
    const gaps = await api('GET', `/v1/teams/${encodeURIComponent(this.team)}/gaps?days=7`);
    body.append(h('section', { 'aria-labelledby': 'week-title' },
      h('h2', { id: 'week-title' }, 'The next 7 days'),
      rota ? null : h('p', { class: 'hint' }, 'No rota yet: until there is one, whoever is on duty on the dashboard is the primary.'),
      weekTable(rota, gaps, (id) => this.nameOf(id))));
    body.append(this.rotaForm(rota));
  }

  rotaForm(rota) {
    const rows = h('div', { id: 'shift-rows' });
    const members = this.staff.filter((s) => s.teams.includes(this.team) && !s.disabled);
    const add = (sh) => rows.append(shiftRow(rows.children.length, sh, members));
    for (const sh of (rota && rota.shifts) || []) {
      add({ tier: sh.tier, staff: this.usernameOf(sh.staff), days: sh.days.map((d) => WEEKDAY[d]), start: hhmm(sh.start), end: sh.end === 1440 ? '24:00' : hhmm(sh.end) });
    }
    if (!rows.children.length) add(null);
    // Overrides are kept as they are: this screen edits the weekly shifts.
    const overrides = ((rota && rota.overrides) || []).map((o) => ({
      kind: o.kind, tier: o.tier, staff: this.usernameOf(o.staff), replaces: o.replaces ? this.usernameOf(o.replaces) : undefined,
      from: o.from, to: o.to,
    }));
    const err = h('p', { class: 'error', id: 'rota-error', role: 'alert', hidden: true });
    const warn = h('div', { id: 'rota-warnings', 'aria-live': 'polite' });
    const form = h('form', { id: 'rota-form', novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      clear(warn);
      renumber(rows, 'fieldset.shift', /shifts\[\d+\]/g, (j) => `shifts[${j}]`);
      const shifts = [...rows.querySelectorAll('fieldset.shift')].map((fs) => ({
        tier: fs.querySelector('[name=tier]').value,
        staff: fs.querySelector('[name=staff]').value,
        days: [...fs.querySelectorAll('[name=days]:checked')].map((c) => c.value),
        start: fs.querySelector('[name=start]').value,
        end: fs.querySelector('[name=end]').value,
      }));
      try {
        const res = await api('PUT', `/v1/teams/${encodeURIComponent(this.team)}/rota`, { team: this.team, timezone: 'Europe/London', shifts, overrides });
        showFieldErrors(form, []);
        toast(`Rota saved (version ${res.rota.version}).`);
        announce('Rota saved.');
        await this.open('rota');
        const w = $('#rota-warnings');
        if (w && res.warnings && res.warnings.length) fill(w, h('ul', { class: 'panel' }, res.warnings.map((x) => h('li', {}, x))));
      } catch (ex) {
        const rest = showFieldErrors(form, ex.fields);
        err.textContent = ex.fields && ex.fields.length
          ? (rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : 'Nothing was saved: fix the fields marked.')
          : message(ex);
        err.hidden = false;
      }
    } } },
    h('h2', { id: 'rota-title' }, 'Weekly shifts'),
    h('p', { class: 'hint' }, 'Times are UK time (Europe/London) and stay right across the clock changes. An end at or before the start runs past midnight.'),
    rows,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'act', id: 'shift-add', on: { click: () => add(null) } }, 'Add a shift'),
      h('button', { type: 'submit', class: 'primary act', id: 'rota-save' }, 'Save rota')),
    err, warn);
    return form;
  }

  // --- escalation policies ----------------------------------------------

  async policies(body) {
    const ps = await api('GET', `/v1/teams/${encodeURIComponent(this.team)}/policies`);
    const levels = (ps && ps.levels) || {};
    const err = h('p', { class: 'error', id: 'policy-error', role: 'alert', hidden: true });
    const sections = LEVELS.map(([lv, label]) => levelEditor(lv, label, levels[lv] || { steps: [] }));
    const form = h('form', { id: 'policy-form', novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      const file = { team: this.team };
      for (const sec of form.querySelectorAll('fieldset.level')) {
        const lv = sec.dataset.level;
        renumber(sec, 'fieldset.step', new RegExp(`${lv}\\.steps\\[\\d+\\]`, 'g'), (j) => `${lv}.steps[${j}]`);
        const steps = [...sec.querySelectorAll('fieldset.step')].map((st) => ({
          whom: [...st.querySelectorAll('[name=whom]:checked')].map((c) => c.value),
          how: [...st.querySelectorAll('[name=how]:checked')].map((c) => c.value),
          wait: st.querySelector('[name=wait]').value.trim(),
          if_unreached: st.querySelector('[name=if_unreached]').value,
        }));
        const level = { steps, repeat: sec.querySelector('[name=repeat]').value.trim() || '0' };
        const ack = sec.querySelector('[name=ack_timeout]').value.trim();
        const fb = sec.querySelector('[name=fallback_after]').value.trim();
        if (ack) level.ack_timeout = ack;
        if (fb) level.fallback_after = fb;
        file[lv] = level;
      }
      try {
        const res = await api('PUT', `/v1/teams/${encodeURIComponent(this.team)}/policies`, file);
        showFieldErrors(form, []);
        toast(`Escalation saved (version ${res.version}): new alerts follow it.`);
        announce('Escalation policies saved.');
      } catch (ex) {
        const rest = showFieldErrors(form, ex.fields);
        err.textContent = ex.fields && ex.fields.length
          ? (rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : 'Nothing was saved: fix the fields marked.')
          : message(ex);
        err.hidden = false;
      }
    } } },
    h('h2', { id: 'policy-title' }, 'Escalation'),
    h('p', { class: 'hint' }, 'Who is alerted, how, and how long Waymark waits before the next step, until someone claims the alert. Every level must end with the 24/7 fallback, by text or phone. Waits such as 90s, 5m or 1h.'),
    sections, err,
    h('button', { type: 'submit', class: 'primary act', id: 'policy-save' }, 'Save escalation'));
    body.append(form);
  }

  // --- staff --------------------------------------------------------------

  staffSection(body) {
    const mine = this.isAdmin() ? null : this.app.me.teams;
    const list = h('ul', { class: 'list', id: 'staff-list', 'aria-label': 'Staff accounts' },
      this.staff.filter((s) => s.teams.includes(this.team)).map((s) => this.staffRow(s)));
    const out = h('div', { id: 'staff-created', 'aria-live': 'polite' });
    if (this.created) this.showCreated(out, this.created);
    body.append(h('section', { 'aria-labelledby': 'staff-title' },
      h('h2', { id: 'staff-title' }, `Accounts in ${this.team}`), list),
    this.staffForm(out, mine), out);
  }

  staffRow(s) {
    const roles = h('fieldset', { class: 'inline', 'data-field': 'roles' }, h('legend', {}, `Roles of ${s.display_name}`),
      h('div', { class: 'days' }, ROLES.filter(([r]) => r !== 'admin' || this.isAdmin()).map(([r, label]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'roles', value: r, checked: s.roles.includes(r) }), label))),
      h('div', { class: 'field-error', hidden: true }));
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { novalidate: true, 'data-staff': s.username, on: { submit: (e) => {
      e.preventDefault();
      this.patch(s, { roles: [...roles.querySelectorAll(':checked')].map((c) => c.value) }, form, err);
    } } },
    roles, err,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'act' }, 'Save roles'),
      s.disabled
        ? h('button', { type: 'button', class: 'act', id: `enable-${s.username}`, on: { click: () => this.patch(s, { disabled: false }, form, err) } }, `Enable ${s.username}`)
        : h('button', { type: 'button', class: 'danger act', id: `disable-${s.username}`, on: { click: () => this.patch(s, { disabled: true }, form, err) } }, `Disable ${s.username}`)));
    return h('li', { 'data-username': s.username },
      h('span', { class: 'name' }, s.display_name), ` (${s.username}) \u00b7 `,
      h('span', { class: s.disabled ? 'tag' : '' }, s.disabled ? 'Disabled' : s.status),
      s.page_phone ? ' \u00b7 pages by phone' : ' \u00b7 no page phone',
      form,
      this.isAdmin() && s.roles.includes('refuge') ? this.refugeLink(s) : null);
  }

  // refugeLink lets an administrator link a refuge account to the refuge
  // whose vacancies it keeps, chosen among the directory's refuges.
  refugeLink(s) {
    const sel = h('select', { id: `refuge-of-${s.username}`, name: 'service' }, h('option', { value: '' }, 'Choose a refuge'));
    api('GET', '/v1/refuges').then((res) => {
      for (const r of (res && res.refuges) || []) sel.append(h('option', { value: r.service_id }, r.name + (r.district ? ` (${r.district})` : '')));
    }).catch(() => {});
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { novalidate: true, 'data-refuge-link': s.username, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      try {
        const r = await api('PUT', `/v1/staff/${s.id}/refuge`, { service: sel.value });
        toast(`${s.username} keeps the vacancies of ${r.name}.`);
      } catch (ex) {
        const rest = showFieldErrors(form, ex.fields);
        err.textContent = rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : message(ex);
        err.hidden = false;
      }
    } } },
    field(`Refuge ${s.display_name} keeps the vacancies of`, sel), err,
    h('button', { type: 'submit', class: 'act', id: `refuge-link-${s.username}` }, `Link ${s.username}`));
    return form;
  }

  async patch(s, change, form, err) {
    err.hidden = true;
    try {
      await api('PATCH', `/v1/staff/${s.id}`, change);
      toast(change.disabled === true ? `${s.username} disabled; their sessions have ended.` : change.disabled === false ? `${s.username} enabled.` : `Roles of ${s.username} saved; their sessions have ended.`);
      await this.open('staff');
    } catch (ex) {
      const rest = showFieldErrors(form, ex.fields);
      err.textContent = rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : (ex.fields && ex.fields.length ? 'Nothing was changed: fix the fields marked.' : message(ex));
      err.hidden = false;
    }
  }

  staffForm(out, mine) {
    const input = (name, attrs) => h('input', { id: 'staff-' + name.replace('_', '-'), name, autocomplete: 'off', ...attrs });
    const err = h('p', { class: 'error', id: 'staff-error', role: 'alert', hidden: true });
    const teams = mine || [this.team];
    const form = h('form', { id: 'staff-form', novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      const f = e.target;
      const body = {
        username: f.username.value.trim(), display_name: f.display_name.value.trim(),
        roles: [...f.querySelectorAll('[name=roles]:checked')].map((c) => c.value),
        teams: [...f.querySelectorAll('[name=teams]:checked')].map((c) => c.value),
        phone: f.phone.value.trim(),
      };
      try {
        const res = await api('POST', '/v1/staff', body);
        f.reset();
        showFieldErrors(f, []);
        f.phone.value = '';
        this.created = res;
        announce(`Account ${res.username} created.`);
        await this.open('staff');
      } catch (ex) {
        const rest = showFieldErrors(f, ex.fields);
        err.textContent = ex.fields && ex.fields.length
          ? (rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : 'Nothing was created: fix the fields marked.')
          : message(ex);
        err.hidden = false;
      }
    } } },
    h('h2', { id: 'staff-new-title' }, 'New account'),
    field('Username (3 to 64 of a-z, 0-9 and . _ @ -)', input('username', { autocapitalize: 'none', spellcheck: 'false', maxlength: '64' })),
    field('Name shown to colleagues', input('display_name', { maxlength: '80' })),
    field('Phone for pages (optional)', input('phone', { type: 'tel', maxlength: '32', inputmode: 'tel' })),
    h('fieldset', { 'data-field': 'roles' }, h('legend', {}, 'Roles'),
      h('div', { class: 'days' }, ROLES.filter(([r]) => r !== 'admin' || this.isAdmin()).map(([r, label]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'roles', value: r, id: 'staff-role-' + r }), label))),
      h('div', { class: 'field-error', id: 'staff-roles-err', hidden: true })),
    h('fieldset', { 'data-field': 'teams' }, h('legend', {}, 'Teams'),
      h('div', { class: 'days' }, teams.map((t) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'teams', value: t, checked: t === this.team }), t))),
      h('div', { class: 'field-error', id: 'staff-teams-err', hidden: true })),
    err,
    h('button', { type: 'submit', class: 'primary act', id: 'staff-create' }, 'Create account'));
    return form;
  }

  // showCreated keeps the new account's setup link and QR code on screen
  // until dismissed: the link is shown once and cannot be fetched again.
  showCreated(out, res) {
    const link = res.setup_link || (location.origin + res.setup_path);
    fill(clear(out), h('div', { class: 'panel', id: 'setup-handover' },
      h('h2', {}, `Set-up link for ${res.display_name || res.username}`),
      h('p', {}, 'Give it to them through a trusted channel, or let them scan the code. It works once, until ',
        new Date(res.setup_expires_at).toLocaleString('en-GB', london), '. With it they choose a password and add Waymark to an authenticator app (shown to them as a QR code).'),
      res.setup_qr_svg ? h('img', { class: 'qr', id: 'setup-qr', alt: 'QR code of the set-up link', src: 'data:image/svg+xml;base64,' + btoa(res.setup_qr_svg) }) : null,
      h('p', { class: 'link-once' }, h('code', { id: 'setup-link' }, link)),
      h('button', { type: 'button', class: 'quiet act', on: { click: () => { this.created = null; clear(out); } } }, 'Done, hide the link')));
  }

  // --- directory entries (administrators) ----------------------------------

  async directorySection(body) {
    const res = await api('GET', '/v1/directory/records');
    const all = ((res && res.services) || []).sort((a, b) => a.name.localeCompare(b.name));
    const filter = h('input', { id: 'svc-filter', name: 'filter', type: 'search', autocomplete: 'off' });
    const list = h('ul', { class: 'list', id: 'svc-list', 'aria-label': 'Directory services' });
    const editor = h('div', { id: 'svc-editor' });
    const draw = () => {
      const q = filter.value.trim().toLowerCase();
      clear(list).append(...all.filter((x) => !q || x.name.toLowerCase().includes(q)).slice(0, 30).map((x) => h('li', { 'data-service': x.id },
        h('span', { class: 'name' }, x.name), x.retired ? h('span', { class: 'tag' }, ' Retired') : null, ' ',
        h('button', { type: 'button', class: 'quiet act', 'aria-label': `Edit ${x.name}`, on: { click: () => this.editService(editor, x.id) } }, 'Edit'))));
    };
    filter.addEventListener('input', draw);
    draw();
    body.append(h('section', { 'aria-labelledby': 'svc-title' },
      h('div', { class: 'view-head' }, h('h2', { id: 'svc-title' }, 'Directory entries'),
        h('button', { type: 'button', class: 'primary act', id: 'svc-new', on: { click: () => this.editService(editor, null) } }, 'Add a service')),
      field('Find by name', filter), list), editor);
  }

  async editService(out, id) {
    let rec = { id: (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()), name: '', organisation: {}, categories: [], phones: [], locations: [] };
    let retired = false;
    if (id) {
      rec = await api('GET', `/v1/directory/records/${encodeURIComponent(id)}`);
      const res = await api('GET', '/v1/directory/records');
      retired = !!((res.services || []).find((x) => x.id === id) || {}).retired;
    }
    const cats = [['domestic-abuse', 'Domestic abuse'], ['helpline', 'Helpline'], ['refuge', 'Refuge'], ['idva-isva', 'IDVA / ISVA'],
      ['outreach', 'Outreach'], ['children-young-people', 'Children and young people'], ['male-victims', 'Male victims'], ['lgbt', 'LGBT+'],
      ['sexual-violence', 'Sexual violence'], ['legal', 'Legal'], ['housing', 'Housing']];
    const inp = (name, id2, value, attrs) => h('input', { id: id2, name, value: value || '', autocomplete: 'off', ...(attrs || {}) });
    const err = h('p', { class: 'error', id: 'svc-error', role: 'alert', hidden: true });
    const f = (label, ctl, api2, hint) => { const b = field(label, ctl, hint); b.dataset.field = api2; return b; };
    const form = h('form', { id: 'svc-form', novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      const el = (n) => form.elements.namedItem(n);
      const next = { ...rec };
      next.name = el('name').value;
      next.organisation = { ...(rec.organisation || {}), name: el('org').value };
      next.description = el('description').value;
      next.categories = [...form.querySelectorAll('[name=categories]:checked')].map((c) => c.value)
        .concat((rec.categories || []).filter((c) => !cats.some(([v]) => v === c)));
      const phone = el('phone').value.trim();
      next.phones = phone ? [{ ...((rec.phones || [])[0] || {}), number: phone }, ...(rec.phones || []).slice(1)] : (rec.phones || []).slice(1);
      next.url = el('url').value.trim();
      const district = el('district').value.trim().toUpperCase();
      next.locations = district ? [{ ...((rec.locations || [])[0] || {}), district }, ...(rec.locations || []).slice(1)] : (rec.locations || []).slice(1);
      next.open_24_7 = el('open247').checked;
      next.confidential_address = el('confidential').checked;
      try {
        const res = await api('PUT', `/v1/directory/records/${encodeURIComponent(rec.id)}`, next);
        showFieldErrors(form, []);
        toast(`${res.service.name} saved${res.warnings.length ? ` (${res.warnings.length} field${res.warnings.length === 1 ? '' : 's'} dropped)` : ''}: searches show it within seconds.`);
        if (res.warnings.length) fill(clear($('#svc-warnings')), h('ul', { class: 'panel' }, res.warnings.map((w) => h('li', {}, `${w.field}: ${w.problem}`))));
        rec = res.service;
      } catch (ex) {
        const rest = showFieldErrors(form, ex.fields);
        err.textContent = ex.fields && ex.fields.length
          ? (rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : 'Nothing was saved: fix the fields marked.')
          : message(ex);
        err.hidden = false;
      }
    } } },
    h('h2', { id: 'svc-form-title', tabindex: '-1' }, id ? `Edit ${rec.name}` : 'New service'),
    f('Name', inp('name', 'svc-name', rec.name, { maxlength: '300' }), 'name'),
    f('Organisation', inp('org', 'svc-org', (rec.organisation || {}).name, { maxlength: '300' }), 'organisation.name'),
    f('Description', h('textarea', { id: 'svc-description', name: 'description', maxlength: '8000' }, rec.description || ''), 'description'),
    h('fieldset', { 'data-field': 'categories' }, h('legend', {}, 'Kind of service'),
      h('div', { class: 'days' }, cats.map(([v, l]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'categories', value: v, checked: (rec.categories || []).includes(v) }), l))),
      h('div', { class: 'field-error', hidden: true })),
    f('Phone', inp('phone', 'svc-phone', ((rec.phones || [])[0] || {}).number, { type: 'tel', maxlength: '32' }), 'phones[0].number'),
    f('Website', inp('url', 'svc-url', rec.url, { type: 'url', maxlength: '500' }), 'url'),
    f('Postcode district', inp('district', 'svc-district', ((rec.locations || [])[0] || {}).district, { maxlength: '4' }), 'locations[0].district', 'A confidential service (a refuge) is placed at its district only.'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'open247', id: 'svc-open247', checked: !!rec.open_24_7 }), 'Open 24/7'),
    h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'confidential', id: 'svc-confidential', checked: !!rec.confidential_address }), 'Confidential address (a refuge): reached through its gateway'),
    err, h('div', { id: 'svc-warnings', 'aria-live': 'polite' }),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary act', id: 'svc-save' }, 'Save service'),
      id ? h('button', { type: 'button', class: retired ? 'act' : 'danger act', id: 'svc-retire', on: { click: async () => {
        try {
          await api('PUT', `/v1/directory/records/${encodeURIComponent(rec.id)}/retired`, { retired: !retired });
          toast(retired ? `${rec.name} is back in search.` : `${rec.name} retired: no longer in search, the API or exports.`);
          await this.open('directory');
        } catch (ex) {
          toast(message(ex));
        }
      } } }, retired ? 'Bring back' : 'Retire this service') : null));
    clear(out).append(form);
    $('#svc-form-title').focus();
  }

  // --- teams (administrators) ---------------------------------------------

  async teamsSection(body) {
    const res = await api('GET', '/v1/teams');
    const list = h('ul', { class: 'list', id: 'team-list' }, ((res && res.teams) || []).map((t) => h('li', {},
      h('span', { class: 'name' }, t.name), ` (${t.id})`, t.areas.length ? ` \u00b7 ${t.areas.join(', ')}` : ' \u00b7 no areas')));
    const err = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { id: 'team-form', novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      err.hidden = true;
      const f = e.target;
      try {
        // f.id and f.name are the form's own properties: read the fields.
        const el = (n) => f.elements.namedItem(n).value;
        const t = await api('POST', '/v1/teams', { id: el('id').trim(), name: el('name').trim(),
          areas: el('areas').split(',').map((a) => a.trim().toUpperCase()).filter(Boolean) });
        toast(`Team ${t.id} added.`);
        this.team = t.id;
        await this.open('teams');
      } catch (ex) {
        const rest = showFieldErrors(f, ex.fields);
        err.textContent = rest.length ? rest.map((p) => `${p.field}: ${p.problem}`).join('; ') : (ex.fields && ex.fields.length ? 'Nothing was added: fix the fields marked.' : message(ex));
        err.hidden = false;
      }
    } } },
    h('h2', {}, 'Add a team'),
    field('Team id (a-z, 0-9 and -)', h('input', { id: 'team-id', name: 'id', maxlength: '32', autocomplete: 'off' })),
    field('Name', h('input', { id: 'team-name', name: 'name', maxlength: '80', autocomplete: 'off' })),
    field('Postcode districts covered (comma separated)', h('input', { id: 'team-areas', name: 'areas', autocomplete: 'off' })),
    err, h('button', { type: 'submit', class: 'primary act' }, 'Add team'));
    body.append(h('section', {}, h('h2', {}, 'Teams'), list), form);
  }
}

// weekTable is the next seven days, tier by tier: each shift by name and
// time, and each gap (nobody on call in any tier) in red with its times.
function weekTable(rota, gaps, nameOf) {
  const today = new Date();
  const days = [];
  for (let i = 0; i < 7; i++) {
    const d = new Date(today.getTime() + i * 86400000);
    days.push({
      key: d.toLocaleDateString('en-GB', { ...london, weekday: 'short' }).slice(0, 3).toLowerCase(),
      label: d.toLocaleDateString('en-GB', { ...london, weekday: 'short', day: 'numeric', month: 'short' }),
      date: d.toLocaleDateString('en-CA', london),
    });
  }
  const shifts = (rota && rota.shifts) || [];
  const gapList = (gaps && gaps.gaps) || [];
  const cell = (day, tier) => {
    const wd = WEEKDAY.indexOf(day.key);
    const on = shifts.filter((s) => s.tier === tier && s.days.includes(wd));
    return on.length
      ? on.map((s) => h('div', { class: 'on' }, `${nameOf(s.staff)} ${hhmm(s.start)}\u2013${s.end === 1440 ? '24:00' : hhmm(s.end)}`))
      : h('span', { class: 'hint' }, '\u2014');
  };
  const gapCell = (day) => {
    const mine = gapList.filter((g) => {
      const from = new Date(g.from).toLocaleDateString('en-CA', london);
      const to = new Date(new Date(g.to).getTime() - 1).toLocaleDateString('en-CA', london);
      return from <= day.date && day.date <= to;
    });
    if (!mine.length) return h('span', { class: 'covered' }, 'Covered');
    return mine.map((g) => {
      const from = new Date(g.from);
      const to = new Date(g.to);
      const f = from.toLocaleDateString('en-CA', london) < day.date ? '00:00' : from.toLocaleTimeString('en-GB', { ...london, hour: '2-digit', minute: '2-digit' });
      const t = to.toLocaleDateString('en-CA', london) > day.date ? '24:00' : to.toLocaleTimeString('en-GB', { ...london, hour: '2-digit', minute: '2-digit' });
      return h('div', { class: 'gap' }, `Gap ${f}\u2013${t}`);
    });
  };
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Week table (scrolls sideways)' },
    h('table', { class: 'week', id: 'rota-week' },
      h('caption', { class: 'sr-only' }, 'Who is on call each day, by tier, and the gaps'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Day'), TIERS.map(([, l]) => h('th', { scope: 'col' }, l)), h('th', { scope: 'col' }, 'Gaps'))),
      h('tbody', {}, days.map((d) => h('tr', { 'data-date': d.date },
        h('th', { scope: 'row' }, d.label),
        TIERS.map(([t]) => h('td', {}, cell(d, t))),
        h('td', { class: 'gaps' }, gapCell(d)))))));
}

// shiftRow is one weekly shift in the editor; its fields are named as the
// rota file names them (shifts[i].start), so a refusal lands next to them.
function shiftRow(i, sh, members) {
  sh = sh || { tier: 'primary', staff: members[0] ? members[0].username : '', days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };
  const id = (n) => `shift-${i}-${n}`;
  const wrap = (name, el) => {
    const f = field(name, el);
    f.dataset.field = `shifts[${i}].${el.name}`;
    return f;
  };
  const staffSel = h('select', { id: id('staff'), name: 'staff' },
    members.map((m) => h('option', { value: m.username, selected: m.username === sh.staff }, `${m.display_name} (${m.username})`)),
    members.some((m) => m.username === sh.staff) ? null : h('option', { value: sh.staff, selected: true }, sh.staff));
  const fs = h('fieldset', { class: 'shift', 'data-shift': String(i) },
    h('legend', {}, `Shift ${i + 1}`),
    h('div', { class: 'row' },
      wrap('Tier', h('select', { id: id('tier'), name: 'tier' }, TIERS.map(([v, l]) => h('option', { value: v, selected: v === sh.tier }, l)))),
      wrap('Who', staffSel)),
    h('fieldset', { 'data-field': `shifts[${i}].days` }, h('legend', {}, 'Days'),
      h('div', { class: 'days' }, DAYS.map(([v, l]) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'days', value: v, checked: sh.days.includes(v) }), l))),
      h('div', { class: 'field-error', id: id('days-err'), hidden: true })),
    h('div', { class: 'row' },
      wrap('Starts (HH:MM)', h('input', { id: id('start'), name: 'start', value: sh.start, inputmode: 'numeric', maxlength: '5', autocomplete: 'off' })),
      wrap('Ends (HH:MM)', h('input', { id: id('end'), name: 'end', value: sh.end, inputmode: 'numeric', maxlength: '5', autocomplete: 'off' }))),
    h('button', { type: 'button', class: 'quiet act', on: { click: () => fs.remove() } }, `Remove shift ${i + 1}`));
  return fs;
}

// levelEditor is one risk level's policy: its steps in order, and its
// repeat count and timeouts, named as the policy file names them.
function levelEditor(lv, label, p) {
  const steps = h('div', { class: 'steps' });
  const add = (st) => steps.append(stepRow(lv, steps.children.length, st));
  for (const st of p.steps || []) add(st);
  if (!steps.children.length) add(null);
  const f = (name, labelText, value, hint) => {
    const el = h('input', { id: `${lv}-${name}`, name, value: value || '', autocomplete: 'off', maxlength: '16' });
    const box = field(labelText, el, hint);
    box.dataset.field = `${lv}.${name}`;
    return box;
  };
  return h('fieldset', { class: 'level', 'data-level': lv },
    h('legend', {}, label),
    steps,
    h('button', { type: 'button', class: 'act', id: `${lv}-add-step`, on: { click: () => add(null) } }, `Add a step (${lv})`),
    h('div', { class: 'row' },
      f('repeat', 'Repeat the steps before the fallback', String(p.repeat || 0)),
      f('ack_timeout', 'Claim lapses without progress after', p.ack_timeout ? goDur(p.ack_timeout) : '', 'Empty: the deployment\u2019s default.'),
      f('fallback_after', 'Fallback at the latest after', p.fallback_after ? goDur(p.fallback_after) : '')));
}

function stepRow(lv, i, st) {
  st = st || { whom: [], how: [], wait: '5m' };
  const at = `${lv}.steps[${i}]`;
  const box = (name, opts, chosen) => h('fieldset', { 'data-field': `${at}.${name}` }, h('legend', {}, name === 'whom' ? 'Whom' : 'How'),
    h('div', { class: 'days' }, opts.map(([v, l]) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name, value: v, checked: (chosen || []).includes(v) || (v === 'duty-manager' && (chosen || []).includes('oncall:duty-manager')) }), l))),
    h('div', { class: 'field-error', hidden: true }));
  const wait = h('input', { id: `${lv}-step-${i}-wait`, name: 'wait', value: goDur(st.wait || ''), autocomplete: 'off', maxlength: '16' });
  const w = field('Wait before the next step', wait);
  w.dataset.field = `${at}.wait`;
  const un = h('select', { id: `${lv}-step-${i}-unreached`, name: 'if_unreached' },
    h('option', { value: 'next-channel', selected: st.if_unreached !== 'next-step' }, 'Try their next way'),
    h('option', { value: 'next-step', selected: st.if_unreached === 'next-step' }, 'Move on to the next step'));
  const u = field('If a page to someone fails', un);
  u.dataset.field = `${at}.if_unreached`;
  const fs = h('fieldset', { class: 'step', 'data-step': String(i) },
    h('legend', {}, `Step ${i + 1}`),
    box('whom', WHOM, st.whom), box('how', HOW, st.how), w, u,
    h('button', { type: 'button', class: 'quiet act', on: { click: () => fs.remove() } }, `Remove step ${i + 1} (${lv})`));
  return fs;
}

// renumber names the fields of each row (sel) after its position now, as
// the server will name them (rows can be removed from the middle).
function renumber(root, sel, pattern, name) {
  [...root.querySelectorAll(sel)].forEach((row, j) => {
    for (const el of [row, ...row.querySelectorAll('[data-field]')]) {
      if (el.dataset.field) el.dataset.field = el.dataset.field.replace(pattern, name(j));
    }
  });
}

// goDur shortens Go's "5m0s" to "5m" and "1h0m0s" to "1h".
function goDur(s) {
  return String(s).replace(/(\d)h0m0s$/, '$1h').replace(/(\d)m0s$/, '$1m').replace(/^0s$/, '');
}
