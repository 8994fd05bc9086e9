// cases.js is the caseworker's side: the team's cases, enrolling and
// editing one (with the tech-safety check), issuing an app enrolment code
// (shown once), renewing and erasing. Secrets (phone, code words, PINs,
// safety notes) are write-only here: the server never sends them back, the
// form shows only whether they are set, and the fields are emptied as soon
// as they are sent.

import { api, APIError, message } from './api.js';
import { h, clear, fill, $, field, showFieldErrors, announce, toast } from './dom.js';
import { date } from './model.js';
import { svgIcon } from './icons.js';

const DAYS = [['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']];
const BANDS = ['0-4', '5-10', '11-15', '16-17'];
// API_NAMES maps form controls to the API's field paths, so a 422 lands
// next to the right control.
const API_NAMES = {
  marac_date: 'marac.date', opening_line: 'safe_contact.opening_line', language: 'communication.language',
  children_count: 'children.count',
};
const NEEDS = [['voice', 'Voice'], ['text-only', 'Text only'], ['bsl', 'BSL'], ['interpreter', 'Interpreter']];

export class CasesView {
  constructor(app, deps) {
    this.app = app;
    this.deps = deps;
    this.root = $('#view-cases');
  }

  open(which) {
    if (which === 'new') this.form(null);
    else if (which) this.detail(which);
    else this.list();
  }

  async list() {
    const root = clear(this.root);
    const teams = (this.app.me && this.app.me.teams) || [];
    root.append(h('div', { class: 'view-head' },
      h('h1', { id: 'cases-title' }, 'Cases'),
      h('button', { type: 'button', class: 'primary act', on: { click: () => this.deps.go('#/cases/new') } }, 'Enrol a survivor')));
    // Cases that expire within 14 days (or have expired) and that nothing
    // keeps alive: the owner is warned here, ahead of time, with a way to
    // renew each one in place.
    const banner = h('div', { id: 'expiry-banner', class: 'banner expiring', role: 'alert', hidden: true });
    const soon = [];
    root.append(banner);
    for (const team of teams) {
      const ul = h('ul', { class: 'list', 'aria-label': `Cases of team ${team}` });
      root.append(h('h2', {}, `Team ${team}`), ul);
      try {
        const res = await api('GET', '/v1/cases?team=' + encodeURIComponent(team));
        const cases = (res && res.cases) || [];
        if (!cases.length) ul.append(h('li', { class: 'empty' }, 'No cases.'));
        for (const c of cases) {
          if (c.expiring_soon) soon.push(c);
          ul.append(h('li', {},
            h('a', { href: '#/cases/' + c.id, class: 'name' }, c.alias || c.id),
            ' \u00b7 risk ', c.risk_level || 'not set',
            c.expiring_soon ? h('span', { class: 'tag' }, c.expired ? ' Expired' : ` Expires ${date(c.expires_at)}`) : null));
        }
      } catch (e) {
        ul.append(h('li', { class: 'error' }, message(e)));
      }
    }
    this.expiryBanner(banner, soon);
  }

  expiryBanner(banner, soon) {
    clear(banner);
    banner.hidden = !soon.length;
    if (!soon.length) return;
    banner.append(svgIcon('warning'), h('div', {},
      h('p', {}, h('strong', {}, soon.length === 1 ? '1 case expires soon.' : `${soon.length} cases expire soon.`),
        ' Renew the ones still needed; an expired case stops reaching a responder in the normal way.'),
      h('ul', { class: 'list', id: 'expiring-cases', 'aria-label': 'Cases that expire soon' }, soon.map((c) => h('li', {},
        h('a', { href: '#/cases/' + c.id, class: 'name' }, c.alias || c.id),
        c.expired ? ' \u00b7 expired ' : ' \u00b7 expires ', date(c.expires_at), ' ',
        h('button', { type: 'button', class: 'act', 'aria-label': `Renew ${c.alias || 'case'}`, on: { click: async () => {
          try {
            const r = await api('POST', `/v1/cases/${c.id}/renew`, {});
            toast(`Renewed until ${date(r.expires_at)}.`);
            this.list();
          } catch (e) {
            toast(message(e));
          }
        } } }, 'Renew'))))));
  }

  async detail(id) {
    const root = clear(this.root);
    let c;
    try {
      c = await api('GET', '/v1/cases/' + id);
    } catch (e) {
      root.append(h('h1', { id: 'cases-title' }, 'Case'), h('p', { class: 'error' }, message(e)));
      return;
    }
    const back = h('button', { type: 'button', class: 'quiet', on: { click: () => this.deps.go('#/cases') } }, '\u2190 Cases');
    const expires = c.expires_at ? date(c.expires_at) : 'not set';
    root.append(back,
      h('h1', { id: 'cases-title' }, c.alias || 'Case'),
      h('dl', { class: 'facts' },
        kv('Team', c.team), kv('DASH risk', `${c.risk_level || 'not set'}${c.risk_date ? ' \u00b7 ' + date(c.risk_date) : ''}`),
        kv('MARAC', c.marac && c.marac.referred ? `Referred ${date(c.marac.date)}` : 'Not referred'),
        kv('Expires', c.expired ? `Expired (${expires})` : expires),
        kv('Phone', c.phone_set ? 'Recorded' : 'Not recorded'),
        kv('Code words', c.words_set && c.words_set.code ? `${c.words_set.code} set` : 'None'),
        kv('PINs', c.pins_set ? 'Set' : 'Not set'),
        kv('Tech-safety check', c.tech_safety_check ? `Recorded ${date(c.tech_safety_check.recorded_at)}${c.tech_safety_check.others_have_access ? ' \u2014 others have access' : ''}` : 'Not recorded'),
        kv('Legal hold', c.legal_hold ? 'Yes' : 'No'),
        c.review ? kv('Review', 'Flagged for review') : null),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'act', on: { click: () => this.form(c) } }, 'Edit'),
        h('button', { type: 'button', class: 'act', on: { click: () => this.renew(c) } }, 'Renew'),
        h('button', { type: 'button', class: 'danger act', on: { click: () => this.erase(c) } }, 'Erase')),
      this.practiceSection(c),
      this.checkinsSection(c),
      this.enrolSection(c),
      this.devicesSection(c));
  }

  // practiceSection lets the caseworker open a practice window (at most 30
  // minutes) so the survivor can try the app or their code word with them.
  // What the survivor raises inside it shows here, marked PRACTICE, and
  // must be acknowledged within 2 minutes or it goes to the on-call team as
  // a real alert. Duress, a missed check-in, or anything after the window
  // is always real. The list is polled while the window is open.
  practiceSection(c) {
    clearInterval(this.practiceTimer);
    const out = h('div', { id: 'practice-alerts', 'aria-live': 'polite' });
    const status = h('p', { id: 'practice-status' });
    const minutes = h('select', { id: 'practice-minutes', name: 'minutes' },
      [5, 10, 15, 30].map((m) => h('option', { value: String(m), selected: m === 10 }, `${m} minutes`)));
    const until = c.practice ? new Date(c.practice.until) : null;
    const open = until && until > new Date();
    status.textContent = open
      ? `Practice open until ${until.toLocaleTimeString('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' })}.`
      : 'No practice window open: every alert is real.';
    const refresh = async () => {
      try {
        const res = await api('GET', '/v1/alerts?state=open');
        const mine = (res.alerts || []).filter((a) => a.mode === 'practice' && a.case_id === c.id);
        fill(clear(out), mine.length ? h('ul', { class: 'list' }, mine.map((a) => h('li', { 'data-alert': a.id },
          h('span', { class: 'tag practice' }, 'PRACTICE'), ` ${a.class} raised ${new Date(a.raised_at).toLocaleTimeString('en-GB', { timeZone: 'Europe/London' })} · ${a.state} `,
          a.state === 'raised'
            ? h('button', { type: 'button', class: 'primary act', on: { click: () => this.practiceAct(c, a, 'ack') } }, 'Acknowledge')
            : h('button', { type: 'button', class: 'act', on: { click: () => this.practiceAct(c, a, 'resolve') } }, 'Close practice alert'))))
          : h('p', { class: 'hint' }, 'No practice alerts.'));
      } catch (e) {
        fill(clear(out), h('p', { class: 'error' }, message(e)));
      }
    };
    if (open) {
      refresh();
      this.practiceTimer = setInterval(() => {
        if (!document.body.contains(out) || new Date() > until) { clearInterval(this.practiceTimer); return; }
        refresh();
      }, 3000);
    }
    return h('section', { class: 'more', id: 'practice' }, h('h2', {}, 'Practice mode'),
      h('p', { class: 'hint' }, 'Let the survivor try the button or code word with you. Practice alerts reach only you; acknowledge each within 2 minutes or it goes to the on-call team as real. Duress, a missed check-in or anything after the window is always real.'),
      status,
      open
        ? h('button', { type: 'button', class: 'act', id: 'practice-stop', on: { click: () => this.practice(c, null) } }, 'End practice now')
        : h('div', { class: 'row' }, field('Practice for', minutes),
          h('button', { type: 'button', class: 'act', id: 'practice-start', on: { click: () => this.practice(c, Number(minutes.value)) } }, 'Start practice')),
      out);
  }

  async practice(c, minutes) {
    try {
      if (minutes) {
        const r = await api('POST', `/v1/cases/${c.id}/practice`, { minutes });
        toast(`Practice open until ${new Date(r.until).toLocaleTimeString('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit' })}.`);
      } else {
        await api('DELETE', `/v1/cases/${c.id}/practice`);
        toast('Practice ended: every alert is real again.');
      }
      this.detail(c.id);
    } catch (e) {
      toast(message(e));
    }
  }

  async practiceAct(c, a, what) {
    try {
      if (what === 'ack') await api('POST', `/v1/alerts/${a.id}/ack`, {});
      else await api('POST', `/v1/alerts/${a.id}/resolve`, { outcome: 'safe', note: 'Practice' });
      this.detail(c.id);
    } catch (e) {
      toast(message(e));
    }
  }

  enrolSection(c) {
    const others = h('input', { type: 'checkbox', id: 'tsc-others', name: 'others_have_access' });
    const notes = h('textarea', { id: 'tsc-notes', name: 'notes', maxlength: '4000' });
    const kind = h('select', { id: 'look-kind', name: 'look.kind' },
      h('option', { value: 'calculator' }, 'Calculator'), h('option', { value: 'converter' }, 'Unit converter'));
    const name = h('input', { id: 'look-name', name: 'look.name', maxlength: '20', placeholder: 'Calculator', autocomplete: 'off' });
    const icon = h('select', { id: 'look-icon', name: 'look.icon' },
      h('option', { value: '1' }, 'Dark keypad with orange keys'), h('option', { value: '2' }, 'Orange calculator'),
      h('option', { value: '3' }, 'Green arrows'));
    const out = h('div', { id: 'enrol-code', 'aria-live': 'polite' });
    const show = (res) => {
      clear(out);
      // Shown until dismissed or expired (kept in memory only, per case,
      // so another button on this screen does not lose it); it cannot be
      // fetched again, and a lost code means issuing a new one.
      const qr = res.qr_svg ? h('img', { class: 'qr', id: 'enrol-qr', alt: 'QR code of the app link', src: 'data:image/svg+xml;base64,' + btoa(res.qr_svg) }) : null;
      out.append(h('p', {}, 'Give this to the survivor in person: they scan the QR code with the phone\u2019s camera, or open the link, or type the code into the app.'),
        qr,
        res.link ? h('p', { class: 'link-once' }, h('code', { id: 'enrol-link' }, res.link)) : null,
        h('p', {}, 'Code: ', h('span', { class: 'code-once', id: 'enrol-code-value' }, res.code)),
        h('p', { class: 'hint' }, `Valid once, until ${new Date(res.expires_at).toLocaleString('en-GB', { timeZone: 'Europe/London' })}. The survivor's guide is docs/survivor-app.md.`),
        h('button', { type: 'button', class: 'quiet act', on: { click: () => { delete this.codes[c.id]; clear(out); } } }, 'Done, hide the code'));
    };
    this.codes = this.codes || {};
    const kept = this.codes[c.id];
    if (kept && new Date(kept.expires_at) > new Date()) show(kept);
    const form = h('form', { novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      try {
        const look = { kind: kind.value, icon: icon.value };
        if (name.value.trim()) look.name = name.value.trim();
        const res = await api('POST', `/v1/cases/${c.id}/enrolments`, {
          tech_safety_check: { others_have_access: others.checked, notes: notes.value },
          look,
        });
        form.reset();
        this.codes[c.id] = res;
        show(res);
        announce('Enrolment code issued.');
      } catch (err) {
        clear(out);
        const rest = showFieldErrors(form, prefixed(err.fields, 'tech_safety_check.'));
        out.append(h('p', { class: 'error', role: 'alert' }, rest.length ? rest.map((p) => `${p.field} ${p.problem}`).join('; ') : message(err)));
      }
    } } },
    h('fieldset', {}, h('legend', {}, 'Tech-safety check'),
      h('p', { class: 'hint' }, 'Before installing the app: does anyone else have access to this phone, its accounts or backups?'),
      h('label', { class: 'check', 'data-field': 'others_have_access' }, others, 'Someone else has access to the phone or its accounts'),
      field('What was checked and agreed', notes)),
    h('fieldset', {}, h('legend', {}, 'How the app looks on the phone'),
      field('Disguise', kind, 'Choose with the survivor. The app works the same behind either.'),
      field('Name under the icon', name, 'Letters, digits and spaces; leave empty for the disguise\u2019s own name.'),
      field('Icon', icon)),
    h('button', { type: 'submit', class: 'primary act' }, 'Record check and issue code'));
    return h('section', { class: 'more' }, h('h2', {}, 'App enrolment'), form, out);
  }

  devicesSection(c) {
    const devices = c.devices || [];
    const used = (d) => d.last_used_at && !d.last_used_at.startsWith('0001') ? ', last used ' + date(d.last_used_at) : '';
    return h('section', { class: 'more' }, h('h2', {}, 'Enrolled devices'),
      devices.length ? h('ul', { class: 'list', id: 'devices' }, devices.map((d) => d.removed_at
        ? h('li', { class: 'device-removed' }, `Removed from the phone ${date(d.removed_at)}`)
        : h('li', {},
          `Enrolled ${date(d.created_at)}${used(d)} `,
          h('button', { type: 'button', class: 'danger act', on: { click: async () => {
            if (!confirm('Revoke this device? The app on it stops working at once.')) return;
            try { await api('DELETE', `/v1/cases/${c.id}/devices/${d.device_id}`); toast('Device revoked.'); this.detail(c.id); } catch (e) { toast(message(e)); }
          } } }, 'Revoke')))) : h('p', { class: 'hint' }, 'No devices.'));
  }

  // checkinsSection shows the case's check-in schedule and lets the
  // caseworker set or stop it, as agreed with the survivor (who can also
  // set it in the app's hidden settings). A missed check-in raises an
  // alert after the grace period.
  checkinsSection(c) {
    const sec = h('section', { class: 'more', id: 'checkins' }, h('h2', {}, 'Check-ins'));
    const state = h('p', { id: 'checkins-state' }, 'Loading\u2026');
    const mode = h('select', { id: 'ci-mode', name: 'mode' },
      h('option', { value: 'every' }, 'Every few hours'), h('option', { value: 'times' }, 'At set times each day'));
    const every = h('input', { id: 'ci-every', name: 'every_minutes', type: 'number', min: '5', max: '10080', value: '240' });
    const times = h('input', { id: 'ci-times', name: 'times', placeholder: '09:00, 21:00', autocomplete: 'off' });
    const grace = h('input', { id: 'ci-grace', name: 'grace_minutes', type: 'number', min: '0', max: '1440', value: '15' });
    const err = h('div', { 'aria-live': 'polite' });
    const form = h('form', { novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      clear(err);
      const body = { grace_minutes: Number(grace.value) || 0 };
      if (mode.value === 'every') body.every_minutes = Number(every.value) || 0;
      else body.times = times.value.split(/[\s,]+/).filter(Boolean);
      try {
        await api('PUT', `/v1/cases/${c.id}/checkins`, body);
        toast('Check-ins set.');
        load();
      } catch (x) {
        const rest = showFieldErrors(form, x.fields);
        if (rest.length || !x.fields) err.append(h('p', { class: 'error', role: 'alert' }, rest.length ? rest.map((p) => `${p.field} ${p.problem}`).join('; ') : message(x)));
      }
    } } },
    field('Schedule', mode),
    field('Minutes between check-ins', every, 'At least 5.'),
    field('Times of day (London time)', times, 'Used with \u201cat set times each day\u201d.'),
    field('Grace minutes before an alert', grace),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary act' }, 'Set check-ins'),
      h('button', { type: 'button', class: 'act', id: 'ci-stop', on: { click: async () => {
        try { await api('DELETE', `/v1/cases/${c.id}/checkins`); toast('Check-ins stopped.'); load(); } catch (x) { toast(message(x)); }
      } } }, 'Stop check-ins')));
    const load = async () => {
      try {
        const v = await api('GET', `/v1/cases/${c.id}/checkins`);
        if (!v.active) fill(clear(state), 'No check-ins are set.');
        else {
          const what = v.every_minutes ? `every ${v.every_minutes} minutes` : `daily at ${(v.times || []).join(', ')}`;
          fill(clear(state), `Check-ins ${what}, ${v.grace_minutes || 0} minutes\u2019 grace.` +
            (v.paused ? ' Paused after a missed check-in until the survivor checks in.' : v.next_due ? ` Next due ${date(v.next_due)}.` : ''));
        }
      } catch (x) {
        fill(clear(state), message(x));
      }
    };
    load();
    sec.append(state, form, err);
    return sec;
  }

  async renew(c) {
    try {
      const r = await api('POST', `/v1/cases/${c.id}/renew`, {});
      toast(`Renewed until ${date(r.expires_at)}.`);
      this.detail(c.id);
    } catch (e) {
      toast(message(e));
    }
  }

  async erase(c) {
    const typed = prompt(`Erase this case for good? Its data key is destroyed at once and nothing can bring it back. Type ERASE to confirm.`);
    if (typed !== 'ERASE') return;
    try {
      await api('DELETE', '/v1/cases/' + c.id);
      toast('Case erased.');
      this.deps.go('#/cases');
    } catch (e) {
      toast(message(e));
    }
  }

  // form enrols a new case (c null) or edits c.
  form(c) {
    const root = clear(this.root);
    const edit = !!c;
    const teams = (this.app.me && this.app.me.teams) || [];
    const val = (v) => (v === undefined || v === null ? '' : v);
    const input = (name, attrs = {}) => h('input', { name, id: 'case-' + name.replace(/_/g, '-'), 'data-api': API_NAMES[name], ...attrs });

    const team = h('select', { name: 'team', id: 'case-team', required: true }, teams.map((t) => h('option', { value: t, selected: c && c.team === t }, t)));
    const risk = h('select', { name: 'risk_level', id: 'case-risk-level' },
      ['standard', 'medium', 'high'].map((r) => h('option', { value: r, selected: (c ? c.risk_level : 'standard') === r }, r[0].toUpperCase() + r.slice(1))));
    const windows = h('div', { class: 'windows', id: 'case-windows' });
    const addWindow = (w) => windows.append(windowRow(w));
    for (const w of (c && c.safe_contact && c.safe_contact.windows) || []) addWindow(w);
    const ch = (c && c.children) || { count: 0, age_bands: [] };
    const comm = (c && c.communication) || {};
    const sc = (c && c.safe_contact) || { channels: {} };
    const secretHint = (set) => edit ? (set ? 'Recorded. Leave empty to keep; type to replace.' : 'Not recorded.') : null;

    const form = h('form', { id: 'case-form', novalidate: true, autocomplete: 'off' },
      h('h1', { id: 'cases-title' }, edit ? `Edit ${c.alias}` : 'Enrol a survivor'),
      field('Alias (the name responders see)', input('alias', { value: val(c && c.alias), maxlength: '80', required: true })),
      field('Team', team),
      field('Phone number', input('phone', { type: 'tel', autocomplete: 'off', maxlength: '64' }), secretHint(c && c.phone_set) || 'The number they will text from. Never shown on alerts.'),
      h('div', { class: 'row' },
        field('DASH risk', risk),
        field('DASH date', input('risk_date', { type: 'date', value: val(c && c.risk_date) }))),
      h('fieldset', {}, h('legend', {}, 'MARAC'),
        h('label', { class: 'check' }, input('marac_referred', { type: 'checkbox', checked: c && c.marac && c.marac.referred }), 'Referred to MARAC'),
        field('Referral date', input('marac_date', { type: 'date', value: val(c && c.marac && c.marac.date) }))),
      h('fieldset', {}, h('legend', {}, 'Safe contact'),
        h('div', { class: 'days', role: 'group', 'aria-label': 'Channels' },
          h('label', { class: 'check' }, input('ch_call', { type: 'checkbox', checked: sc.channels && sc.channels.call }), 'Calls'),
          h('label', { class: 'check' }, input('ch_sms', { type: 'checkbox', checked: sc.channels && sc.channels.sms }), 'Texts'),
          h('label', { class: 'check' }, input('ch_voicemail', { type: 'checkbox', checked: sc.channels && sc.channels.voicemail }), 'Voicemail')),
        h('p', { class: 'hint' }, 'Windows (Europe/London) when contact is safe. Outside them the verdict is DO NOT CONTACT.'),
        windows,
        h('button', { type: 'button', class: 'quiet', on: { click: () => addWindow(null) } }, 'Add a window'),
        field('Agreed opening line', input('opening_line', { value: val(sc.opening_line), maxlength: '300' }), 'What a responder says first, e.g. "Hi, it\u2019s the dentist about your appointment."')),
      h('fieldset', {}, h('legend', {}, 'Code words and PINs'),
        field('Code words (comma separated)', input('code_words', { autocomplete: 'off', spellcheck: 'false' }), secretHint(c && c.words_set && c.words_set.code)),
        field('Duress words (comma separated)', input('duress_words', { autocomplete: 'off', spellcheck: 'false' }), secretHint(c && c.words_set && c.words_set.duress)),
        h('div', { class: 'row' },
          field('PIN (4\u20138 digits)', input('pin', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', maxlength: '8' }), secretHint(c && c.pins_set)),
          field('Duress PIN', input('duress_pin', { type: 'password', inputmode: 'numeric', autocomplete: 'new-password', maxlength: '8' })))),
      h('fieldset', {}, h('legend', {}, 'Household and communication'),
        field('Children in the household', input('children_count', { type: 'number', min: '0', max: '20', value: String(ch.count || 0) })),
        h('div', { class: 'days', role: 'group', 'aria-label': 'Children\u2019s age bands' },
          BANDS.map((b) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'band', value: b, checked: (ch.age_bands || []).includes(b) }), b))),
        field('Language (e.g. en, ur, pl)', input('language', { value: val(comm.language), maxlength: '8' })),
        h('div', { class: 'days', role: 'group', 'aria-label': 'Communication needs' },
          NEEDS.map(([v, l]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'need', value: v, checked: (comm.needs || []).includes(v) }), l))),
        field('Interpreter gender', h('select', { name: 'interpreter_gender', id: 'case-interpreter-gender', 'data-api': 'communication.interpreter_gender' },
          ['', 'female', 'male', 'any'].map((g) => h('option', { value: g, selected: comm.interpreter_gender === g }, g || 'No preference recorded'))))),
      field('Response plan (shown on alerts)', h('textarea', { name: 'response_plan', id: 'case-response-plan', maxlength: '4000', value: val(c && c.response_plan) })),
      field('Safety notes (only through an audited reveal)', h('textarea', { name: 'notes', id: 'case-notes', maxlength: '4000' }), secretHint(c && c.notes_set)),
      h('fieldset', {}, h('legend', {}, 'Under 18'),
        h('label', { class: 'check' }, input('under_18', { type: 'checkbox', checked: c && c.under_18 }), 'The survivor is under 18'),
        field('Safeguarding lead', input('safeguarding_lead', { value: val(c && c.safeguarding_lead), maxlength: '120' }))),
      h('p', { class: 'error', id: 'case-error', role: 'alert', hidden: true }),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'quiet', on: { click: () => this.deps.go(edit ? '#/cases/' + c.id : '#/cases') } }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary act' }, edit ? 'Save changes' : 'Enrol')));

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = collect(form, edit);
      const err = $('#case-error', form);
      err.hidden = true;
      try {
        const res = edit ? await api('PATCH', '/v1/cases/' + c.id, body) : await api('POST', '/v1/cases', body);
        // Secrets leave the page with the request.
        for (const n of ['phone', 'code_words', 'duress_words', 'pin', 'duress_pin', 'notes']) form.elements[n].value = '';
        toast(edit ? 'Case saved.' : 'Case enrolled.');
        this.deps.go('#/cases/' + res.id);
      } catch (ex) {
        const rest = showFieldErrors(form, ex.fields);
        err.textContent = rest.length ? rest.map((p) => `${p.field} ${p.problem}`).join('; ') : message(ex);
        err.hidden = false;
        const bad = form.querySelector('[aria-invalid=true]');
        (bad || err).focus?.();
      }
    });
    root.append(form);
    $('#case-alias', form).focus();
  }
}

function windowRow(w) {
  w = w || { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '17:00' };
  const row = h('div', { class: 'window', role: 'group', 'aria-label': 'Safe-contact window' });
  row.append(
    h('div', { class: 'days' }, DAYS.map(([v, l]) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'wday', value: v, checked: w.days.includes(v) }), l))),
    h('div', { class: 'row' },
      h('label', {}, 'From ', h('input', { type: 'time', name: 'wfrom', value: w.from })),
      h('label', {}, 'To ', h('input', { type: 'time', name: 'wto', value: w.to === '24:00' ? '23:59' : w.to })),
      h('button', { type: 'button', class: 'quiet', on: { click: () => row.remove() } }, 'Remove')));
  return row;
}

function words(s) {
  return s.split(',').map((w) => w.trim()).filter(Boolean);
}

// collect reads the form into the API's CaseInput. In an edit, empty
// secret fields are left out so they keep their stored values.
function collect(form, edit) {
  const el = form.elements;
  const b = {
    alias: el.alias.value.trim(),
    team: el.team.value,
    risk_level: el.risk_level.value,
    risk_date: el.risk_date.value,
    marac: { referred: el.marac_referred.checked, date: el.marac_date.value },
    safe_contact: {
      channels: { call: el.ch_call.checked, sms: el.ch_sms.checked, voicemail: el.ch_voicemail.checked },
      opening_line: el.opening_line.value.trim(),
      windows: [...form.querySelectorAll('.window')].map((r) => ({
        days: [...r.querySelectorAll('input[name=wday]:checked')].map((i) => i.value),
        from: r.querySelector('input[name=wfrom]').value,
        to: r.querySelector('input[name=wto]').value === '23:59' ? '24:00' : r.querySelector('input[name=wto]').value,
      })),
    },
    children: {
      count: Number(el.children_count.value) || 0,
      age_bands: [...form.querySelectorAll('input[name=band]:checked')].map((i) => i.value),
    },
    communication: {
      language: el.language.value.trim(),
      needs: [...form.querySelectorAll('input[name=need]:checked')].map((i) => i.value),
      interpreter_gender: el.interpreter_gender.value,
    },
    response_plan: el.response_plan.value,
    under_18: el.under_18.checked,
    safeguarding_lead: el.safeguarding_lead.value.trim(),
  };
  const secret = (name, conv = (v) => v) => {
    const v = el[name].value.trim();
    if (v || !edit) b[name] = conv(v);
  };
  secret('phone');
  secret('code_words', words);
  secret('duress_words', words);
  secret('pin');
  secret('duress_pin');
  secret('notes');
  if (!edit) {
    for (const k of ['pin', 'duress_pin', 'phone', 'notes']) if (b[k] === '') delete b[k];
  }
  if (!b.risk_date) delete b.risk_date;
  return b;
}

function prefixed(fields, prefix) {
  return (fields || []).map((f) => ({ ...f, field: f.field.startsWith(prefix) ? f.field.slice(prefix.length) : f.field }));
}

function kv(k, v) {
  return h('div', {}, h('dt', {}, k), h('dd', {}, v));
}

export { APIError };
