// alertview.js is one alert. Its first screen, without scrolling on a
// 390x844 phone, holds what a responder must know before acting: duress,
// the contact verdict with one plain next step for it (the agreed opening
// line only where contact is allowed), DASH risk and date, MARAC and
// "possible repeat", the location (nearest postcode sector, coordinates,
// accuracy, age, a copy button and a plain link to the point on
// openstreetmap.org: no embedded map, nothing fetched from a third party),
// children, communication needs and the response plan. The action bar sits
// under the thumb, in the page's column below the content (never over
// it). The timeline in plain words, trail, notes, resolve form and the
// audited reveal follow below.

import { api, APIError, message } from './api.js';
import { h, clear, fill, $, field, showFieldErrors, announce, toast } from './dom.js';
import { svgIcon } from './icons.js';
import { held, modeTag } from './queue.js';
import { KINDS, OUTCOMES, VERDICTS, age, clock, date, viewOf, stateText, commText, childrenText } from './model.js';

// nextStep is the one thing to do now, for the verdict at this moment.
export function nextStep(v) {
  const code = v.verdict.code;
  const located = !!(v.location && v.location.lat !== null && v.location.lon !== null);
  if (v.duress || code === 'DO NOT CONTACT') {
    return located
      ? 'Call 999 and give this location. Do not call or text them.'
      : 'Do not call or text them. If they may be in danger now, call 999 with what you know; otherwise follow the response plan.';
  }
  if (code === 'SAFE TO CALL') return 'Ring now, starting with the opening line.';
  if (code === 'TEXT ONLY') return 'Text the agreed message. Do not ring.';
  return 'Follow the response plan.';
}

// contactAllowed says which contact through Waymark the verdict at this
// moment allows, where the deployment offers it at all: a call under SAFE TO CALL; the agreed text under TEXT
// ONLY, or under SAFE TO CALL when texts are agreed, and only if there is
// agreed wording. Never under duress.
export function contactAllowed(v) {
  const code = v.verdict.code;
  if (!v.throughWaymark || v.duress || code === 'DO NOT CONTACT') return { call: false, text: false };
  return {
    call: code === 'SAFE TO CALL',
    text: !!v.openingLine && (code === 'TEXT ONLY' || (code === 'SAFE TO CALL' && v.texts)),
  };
}

// osmLink is a plain link to the point on openstreetmap.org: following it
// is the responder's choice; the page itself fetches nothing from there.
function osmLink(l) {
  const lat = l.lat.toFixed(5);
  const lon = l.lon.toFixed(5);
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
}

export class AlertView {
  constructor(app, deps) {
    this.app = app;
    this.deps = deps;
    this.root = $('#view-alert');
    this.id = null;
    this.v = null;
    this.revealed = null;
  }

  open(id) {
    if (this.id !== id) {
      this.id = id;
      this.v = null;
      this.revealed = null;
      this.refusal = '';
      this.focusPending = true;
      this.build();
    }
    this.refresh();
  }

  close() {
    // Revealed details never outlive the screen they were asked for on.
    this.id = null;
    this.v = null;
    this.revealed = null;
    clear(this.root);
    const slot = $('#actionbar');
    clear(slot).hidden = true;
  }

  async refresh() {
    if (!this.id) return;
    const id = this.id;
    try {
      const raw = await api('GET', '/v1/alerts/' + id);
      if (this.id === id) this.show(raw);
    } catch (e) {
      if (this.id !== id) return;
      if (e instanceof APIError && e.status === 404) {
        this.app.alerts.delete(id);
        toast('That alert is closed or not yours to see.');
        this.deps.go('#/queue', true);
      } else if (!(e instanceof APIError && e.status === 401)) {
        toast(message(e));
      }
    }
  }

  show(raw) {
    this.v = viewOf(raw);
    this.render();
  }

  build() {
    clear(this.root);
    this.top = h('div', { class: 'alert-first' });
    this.bar = h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Alert actions' });
    this.detail = h('div', { class: 'more' });
    this.forms = h('div', { class: 'more' });
    this.root.append(
      h('div', { class: 'alert-top' },
        h('button', { type: 'button', class: 'quiet back', on: { click: () => this.deps.go('#/queue') } }, '\u2190 Alerts'),
        h('span', { class: 'state', id: 'alert-state' })),
      this.top, this.forms, this.detail);
    // The bar lives in the page's column under the content, not over it.
    const slot = $('#actionbar');
    clear(slot).append(this.bar);
    slot.hidden = false;
    this.buildForms();
  }

  render() {
    const v = this.v;
    if (!v) return;
    const me = this.app.me;
    const mine = v.owner && me && v.owner === me.id;
    const k = KINDS[v.kind] || KINDS.panic;

    fill(clear($('#alert-state', this.root)),
      h('span', {}, 'Raised ', h('time', { class: 'age', 'data-since': String(v.raisedAt) }, age(v.raisedAt)), ' ago'),
      v.phoneAt ? [h('br'), h('span', {}, 'On the phone: ', held(v))] : null,
      h('br'),
      h('span', { class: v.owner ? 'claimed-by' : '', id: 'alert-claim' }, stateText(v, me)));

    const verdict = VERDICTS[v.verdict.code] || VERDICTS['DO NOT CONTACT'];
    const facts = [
      fact('DASH risk', v.riskLevel ? cap(v.riskLevel) + (v.riskDate ? ` \u00b7 ${date(v.riskDate)}` : ' \u00b7 no date') : 'Not recorded', 'risk'),
      fact('MARAC', v.marac.referred ? `Referred${v.marac.date ? ' ' + date(v.marac.date) : ''}` : 'Not referred', 'marac'),
      fact('Repeat', v.possibleRepeat ? h('span', { class: 'repeat' }, svgIcon('warning'), ' Possible repeat') : 'No', 'repeat'),
      fact('Children', childrenText(v.children), 'children'),
      fact('Location', [locationText(v.location), this.where(v.location)], 'location', true),
      fact('Communication', commText(v.communication) || 'No needs recorded', 'communication'),
      fact('Review', v.review ? 'Case flagged for review' : 'No', 'review'),
      fact('Response plan', h('span', { class: 'clamp' }, v.responsePlan || 'None recorded'), 'plan', true),
    ];
    fill(clear(this.top),
      v.duress ? h('div', { class: 'duress-flag', id: 'duress-flag', role: 'alert' }, svgIcon('warning'),
        h('span', {}, 'DURESS \u2014 they may not be alone. Do not contact.')) : null,
      h('div', { class: 'alert-title' },
        h('h1', { class: 'h1like', id: 'alert-title', tabindex: '-1' },
          h('span', { class: 'sr-only' }, `${k.label} alert: `), v.alias || 'Unknown sender'),
        h('span', { class: 'kindlabel', id: 'alert-kind' }, svgIcon(k.icon), ' ', k.label, v.team ? ` \u00b7 ${v.team}` : ''),
        modeTag(v),
        v.expiredCase ? h('span', { class: 'tag' }, 'Expired case') : null,
        v.recordStatus ? h('span', { class: 'tag record-status', id: 'record-status' }, svgIcon('warning'), ' ', cap(v.recordStatus)) : null),
      h('div', { class: `verdict ${verdict.cls}`, id: 'verdict', role: 'group', 'aria-label': 'Contact verdict' },
        h('div', { class: 'code' }, svgIcon(verdict.icon), v.verdict.code),
        v.verdict.reason ? h('div', { class: 'reason' }, v.verdict.reason + (v.verdict.until ? ` (until ${clock(v.verdict.until)})` : '')) : null,
        h('div', { class: 'next', id: 'next-step' }, nextStep(v)),
        this.refusal ? h('div', { class: 'refusal', id: 'contact-refusal', role: 'alert' }, 'Refused: ', this.refusal) : null,
        // The opening line only where contact is allowed: under DO NOT
        // CONTACT it would only invite a call.
        v.duress || v.verdict.code === 'DO NOT CONTACT' ? null : h('div', { class: 'opening', id: 'opening-line' },
          v.openingLine ? ['Opening line: ', h('q', {}, v.openingLine)] : 'No agreed opening line.')),
      h('dl', { class: 'facts', id: 'facts' }, facts));

    this.renderActions(mine);
    this.renderDetail(mine);
    if (this.focusPending) {
      // A screen reader starts at the alert, not wherever the tap was.
      this.focusPending = false;
      $('#alert-title', this.root).focus();
    }
  }

  // where is the location's copy button and map link.
  where(l) {
    if (!l || l.lat === null || l.lon === null) return null;
    const text = `${l.lat.toFixed(5)}, ${l.lon.toFixed(5)}`;
    return h('span', { class: 'where' },
      h('button', { type: 'button', class: 'quiet', id: 'copy-location', on: { click: () => copy(text) } }, 'Copy location'),
      h('a', { id: 'osm-link', href: osmLink(l), target: '_blank', rel: 'noopener noreferrer' }, 'Open on OpenStreetMap'));
  }

  renderActions(mine) {
    const v = this.v;
    const ro = this.app.readOnly;
    const btns = [];
    if (v.state === 'raised' || (v.followUp && !v.owner)) {
      btns.push(h('button', { type: 'button', class: 'primary act', id: 'act-claim', on: { click: () => this.act('ack') } }, 'Claim'));
    }
    if (mine && v.state === 'acknowledged') {
      btns.push(h('button', { type: 'button', class: 'act', id: 'act-working', on: { click: () => this.act('working') } }, 'Mark working'));
    }
    // Contact through Waymark: only the owner, and only when the verdict
    // at this moment allows it (the server checks again and says why not).
    if (mine && (v.state === 'acknowledged' || v.state === 'working')) {
      const c = contactAllowed(v);
      if (c.call) btns.push(h('button', { type: 'button', class: 'act', id: 'act-call', on: { click: () => this.contact('call') } }, 'Ring through Waymark'));
      if (c.text) btns.push(h('button', { type: 'button', class: 'act', id: 'act-text', on: { click: () => this.contact('text') } }, 'Send the agreed text'));
    }
    if (mine && (v.state === 'acknowledged' || v.state === 'working' || v.followUp)) {
      btns.push(h('button', { type: 'button', class: 'act', id: 'act-note', on: { click: () => focusForm('note-text') } }, 'Note'));
      btns.push(h('button', { type: 'button', class: 'act', id: 'act-resolve', on: { click: () => focusForm('resolve-outcome-safe') } }, 'Resolve'));
    }
    if (!btns.length || ro) {
      btns.length = 0;
      btns.push(h('p', { class: 'claimed-by' }, ro ? 'Read-only: sign in again to act.' : stateText(v, this.app.me)));
    }
    clear(this.bar).append(...btns);
    this.forms.hidden = !mine || ro || !v.open;
    this.revealBox.hidden = !mine || ro || !v.caseId;
  }

  async act(what) {
    const id = this.id;
    const btn = $(`#act-${what === 'ack' ? 'claim' : what}`, this.root);
    if (btn) btn.disabled = true;
    try {
      const raw = await api('POST', `/v1/alerts/${id}/${what}`);
      if (this.id === id && raw) this.show(raw);
      announce(what === 'ack' ? 'Claimed. You own this alert.' : 'Marked as being worked on.');
    } catch (e) {
      toast(message(e));
    } finally {
      if (btn) btn.disabled = false;
    }
    await this.deps.refresh(id);
  }

  // contact rings (what 'call') or texts (what 'text') the survivor
  // through Waymark; a refusal shows the server's own words: why, and what
  // to do instead.
  async contact(what) {
    const id = this.id;
    const btn = $(`#act-${what}`, this.root);
    if (btn) btn.disabled = true;
    try {
      const raw = await api('POST', `/v1/alerts/${id}/${what}`);
      if (this.id === id && raw) this.show(raw);
      this.refusal = '';
      toast(what === 'call' ? 'Your phone will ring now. Answer it to be connected.' : 'The agreed text has been sent.');
    } catch (e) {
      // The refusal stays in the verdict box until the next attempt.
      this.refusal = e instanceof APIError && e.status === 409 && e.detail ? e.detail : '';
      if (this.id === id && this.refusal) this.render();
      else toast(message(e));
    } finally {
      if (btn) btn.disabled = false;
    }
    await this.deps.refresh(id);
  }

  // --- below the fold -----------------------------------------------------

  buildForms() {
    // Note.
    const noteText = h('textarea', { id: 'note-text', name: 'note', maxlength: '4000', required: true });
    const noteForm = h('form', { id: 'note-form', novalidate: true, on: { submit: (e) => this.addNote(e) } },
      h('h2', {}, 'Add a note'),
      field('Note (kept sealed, seen by your team)', noteText),
      h('button', { type: 'submit', class: 'act' }, 'Add note'));

    // Resolve.
    const outcomes = h('fieldset', { class: 'field', 'data-field': 'outcome' },
      h('legend', {}, 'Outcome'),
      h('div', { class: 'outcomes' }, OUTCOMES.map(([value, label]) => h('label', { class: 'check' },
        h('input', { type: 'radio', name: 'outcome', value, id: 'resolve-outcome-' + value, required: true }), label))),
      h('div', { class: 'field-error', id: 'resolve-outcome-err', hidden: true }));
    const police = h('input', { id: 'resolve-police', name: 'police_reference', maxlength: '64', autocomplete: 'off' });
    const childrenRef = h('input', { id: 'resolve-children', name: 'childrens_services_reference', maxlength: '64', autocomplete: 'off' });
    const note = h('textarea', { id: 'resolve-note', name: 'note', maxlength: '4000' });
    const resolveForm = h('form', { id: 'resolve-form', novalidate: true, on: { submit: (e) => this.resolve(e) } },
      h('h2', {}, 'Resolve'),
      outcomes,
      field('Police incident reference (if police attended)', police),
      field('Children\u2019s services reference', childrenRef, 'Needed when police attended and there are children in the household.'),
      field('Closing note', note),
      h('p', { class: 'error', id: 'resolve-error', role: 'alert', hidden: true }),
      h('button', { type: 'submit', class: 'primary act' }, 'Resolve alert'));

    // The audited reveal.
    this.revealBox = h('section', { class: 'reveal', 'aria-labelledby': 'reveal-title' },
      h('h2', { id: 'reveal-title' }, 'Phone number and safety notes'),
      h('p', { class: 'hint' }, 'Only when you need them to act on this alert. Every reveal is recorded with your reason, and you must confirm your password and code.'),
      h('div', { id: 'reveal-body' }));

    this.forms.append(this.revealBox, h('section', {}, noteForm), h('section', {}, resolveForm));
    this.renderReveal();
  }

  renderReveal(needReauth) {
    const body = clear($('#reveal-body', this.revealBox) || h('div'));
    if (this.revealed) {
      body.append(h('div', { class: 'reveal-box', id: 'revealed' },
        h('dl', { class: 'facts' },
          fact('Phone', this.revealed.phone || 'Not recorded', 'phone', true),
          fact('Safety notes', this.revealed.safety_notes || 'None recorded', 'notes', true)),
        h('button', { type: 'button', class: 'quiet', on: { click: () => { this.revealed = null; this.renderReveal(); } } }, 'Hide')));
      return;
    }
    const reason = h('textarea', { id: 'reveal-reason', name: 'reason', maxlength: '500', required: true });
    const parts = [field('Why do you need them now?', reason)];
    if (needReauth) {
      parts.push(field('Your password', h('input', { id: 'reveal-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })));
      parts.push(field('6-digit code', h('input', { id: 'reveal-totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', required: true })));
    }
    const form = h('form', { id: 'reveal-form', novalidate: true, on: { submit: (e) => this.reveal(e, !!needReauth) } },
      parts, h('p', { class: 'error', id: 'reveal-error', role: 'alert', hidden: true }),
      h('button', { type: 'submit', class: 'danger act' }, needReauth ? 'Confirm and reveal' : 'Reveal'));
    body.append(form);
  }

  async reveal(ev, withReauth) {
    ev.preventDefault();
    const f = ev.target;
    const err = $('#reveal-error', f);
    err.hidden = true;
    const reason = f.reason.value.trim();
    if (!reason) {
      err.textContent = 'Give a reason: it is recorded with the reveal.';
      err.hidden = false;
      return;
    }
    try {
      if (withReauth) {
        await api('POST', '/v1/auth/reauth', { password: f.password.value, totp: f.totp.value.trim() });
      }
      this.revealed = await api('POST', `/v1/cases/${this.v.caseId}/reveal`, { reason });
      this.renderReveal();
      $('#revealed', this.revealBox).focus?.();
      announce('Phone number and safety notes shown.');
    } catch (e) {
      if (e instanceof APIError && e.reauth) {
        this.renderReveal(true);
        $('#reveal-reason', this.revealBox).value = reason;
        $('#reveal-password', this.revealBox).focus();
        return;
      }
      err.textContent = e instanceof APIError && e.status === 401 && withReauth ? 'That did not match. Check your password and code.' : message(e);
      err.hidden = false;
    }
  }

  async addNote(ev) {
    ev.preventDefault();
    const f = ev.target;
    const note = f.note.value.trim();
    if (!note) { showFieldErrors(f, [{ field: 'note', problem: 'Write the note first.' }]); return; }
    try {
      await api('POST', `/v1/alerts/${this.id}/notes`, { note });
      f.reset();
      showFieldErrors(f, []);
      announce('Note added.');
      this.deps.refresh(this.id);
    } catch (e) {
      const rest = showFieldErrors(f, e.fields);
      toast(rest.length || !e.fields?.length ? message(e) : 'Please check the note.');
    }
  }

  async resolve(ev) {
    ev.preventDefault();
    const f = ev.target;
    const err = $('#resolve-error', f);
    err.hidden = true;
    const outcome = (f.querySelector('input[name=outcome]:checked') || {}).value;
    const body = { outcome: outcome || '' };
    const note = f.note.value.trim();
    const police = f.police_reference.value.trim();
    const ch = f.childrens_services_reference.value.trim();
    if (note) body.note = note;
    if (police) body.police_reference = police;
    if (ch) body.childrens_services_reference = ch;
    const problems = [];
    if (!outcome) problems.push({ field: 'outcome', problem: 'Choose an outcome.' });
    if (outcome === 'police-attended' && this.v.children && this.v.children.count > 0 && !ch) {
      problems.push({ field: 'childrens_services_reference', problem: 'Police attended and there are children: give the children\u2019s services reference.' });
    }
    if (problems.length) { showFieldErrors(f, problems); return; }
    try {
      await api('POST', `/v1/alerts/${this.id}/resolve`, body);
      const id = this.id;
      f.reset();
      toast('Alert resolved.');
      await this.deps.refresh(id);
      this.deps.go('#/queue');
    } catch (e) {
      const rest = showFieldErrors(f, e.fields);
      err.textContent = rest.length ? rest.map((p) => `${p.field} ${p.problem}`).join('; ') : message(e);
      err.hidden = false;
    }
  }

  renderDetail() {
    const v = this.v;
    const tl = h('ol', { class: 'timeline', id: 'timeline' },
      (v.timeline || []).map((e) => {
        const [line, more] = plainEntry(e);
        return h('li', { 'data-type': e.type },
          h('time', {}, clock(e.at)), line,
          more ? h('span', { class: 'detail' }, more) : null);
      }));
    const trail = v.trail.length
      ? h('ol', { class: 'trail', id: 'trail' }, [...v.trail].reverse().map((p) => h('li', {}, clock(p.at), ' \u00b7 ', locationText(p))))
      : h('p', { class: 'hint' }, 'No location fixes.');
    fill(clear(this.detail),
      h('section', {}, h('h2', {}, 'Timeline'), tl),
      h('section', {}, h('h2', {}, 'Location trail'), trail),
      v.seenBy.length ? h('section', {}, h('h2', {}, 'Seen by'), h('p', {}, v.seenBy.map((s) => s.name || s.display_name || s.staff || s).join(', '))) : null);
  }
}

function fact(label, value, key, full) {
  return h('div', { class: full ? 'full' : '', 'data-fact': key },
    h('dt', {}, label), h('dd', {}, value));
}

function cap(s) { return s ? s[0].toUpperCase() + s.slice(1) : s; }

// locationText: "Near SO14 3 · 50.90120, -1.40430 · ±25 m · 2 min 03 s old".
function locationText(l) {
  if (!l || l.lat === null || l.lon === null) return 'No location';
  const parts = [];
  if (l.sector) parts.push(`Near ${l.sector}${l.sectorKm ? ` (${l.sectorKm.toFixed(1)} km)` : ''}`);
  parts.push(`${l.lat.toFixed(5)}, ${l.lon.toFixed(5)}`);
  if (l.accuracy !== null) parts.push(`\u00b1${Math.round(l.accuracy)} m`);
  const out = [parts.join(' \u00b7 ')];
  if (l.at) out.push(' \u00b7 ', h('time', { 'data-since': String(l.at) }, age(l.at)), ' old');
  return h('span', {}, out);
}

// The timeline in plain words: what happened, who did it, and for
// escalation whom Waymark tried and how, never the system's own tokens.
const ENTRY = {
  raised: 'Alert raised', signal: 'Another signal from them', duress: 'Turned into DURESS: do not contact',
  location: 'New location', message: 'Message from them', 'checkin-safe': 'Checked in safe',
  cancelled: 'Cancelled by them', 'cancel-late': 'Asked to cancel after the window (still open)',
  'wrong-pin': 'Wrong PIN entered', acknowledged: 'Claimed', working: 'Marked as being worked on',
  note: 'Note', requeued: 'Back in the queue', quiet: 'Claim about to lapse', lapsed: 'Claim lapsed: back in the queue',
  escalated: 'Escalated', delivery: 'Not reached: trying the next way', paged: 'Paged', answered: 'Taken by phone',
  'handed-over': 'Handed over',
  repaired: 'Escalation re-armed', 'page-failed': 'A page could not be sent', resolved: 'Resolved',
  'followup-done': 'Welfare follow-up closed', expired: 'Expired', checkins: 'Check-in schedule changed',
  'checkins-duress': 'Check-in change under duress (not applied)', 'practice-real': 'Practice treated as real',
  called: 'Rang them through Waymark', texted: 'Sent the agreed text',
};

// The entries whose detail is already a plain sentence about a page.
const PAGE_TYPES = new Set(['paged', 'answered', 'delivery', 'page-failed']);

const WHOM = {
  'oncall:primary': 'the on-call responder', 'oncall:secondary': 'the second on call', 'oncall:manager': 'the duty manager',
  'case-owner': 'the case owner', team: 'the whole team', fallback: 'the 24/7 fallback', manager: 'the duty manager',
};
const HOW = { dashboard: 'on the dashboard', sms: 'by text', voice: 'by phone call', webpush: 'by notification' };

// escalationWords turns "escalation step 1: oncall:primary and case-owner
// by dashboard, then sms (1 to page)" into "Step 1: alerted the on-call
// responder and the case owner on the dashboard, then by text (1 person
// to page)". Anything it does not recognise is shown as it came.
function escalationWords(d) {
  const m = /^escalation step (\d+): (.+?) by (.+?)(?: \((\d+) to page\))?$/.exec(d || '');
  if (!m) return d;
  const whom = m[2].split(' and ').map((w) => WHOM[w] || w).join(' and ');
  const how = m[3].split(', then ').map((c) => HOW[c] || c).join(', then ');
  const n = m[4] ? ` (${m[4]} ${m[4] === '1' ? 'person' : 'people'} to page)` : '';
  return `Step ${m[1]}: alerted ${whom} ${how}${n}`;
}

// plainEntry is a timeline entry's line and, when there is more, its
// detail in plain words.
function plainEntry(e) {
  let line = ENTRY[e.type] || 'Update';
  if (e.by_name) line += ` \u2014 ${e.by_name}`;
  if (e.text) line += `: ${e.text}`;
  let more = e.detail || '';
  if (e.type === 'escalated') {
    const words = escalationWords(more);
    if (words !== more) { line = words; more = ''; }
  }
  // Pages speak for themselves: "Texted Ruth Okafor — delivered".
  if (PAGE_TYPES.has(e.type) && /^[A-Z]/.test(more)) { line = more; more = ''; }
  for (const [k, v] of Object.entries(HOW)) more = more.replaceAll(`${k} page`, `page ${v}`);
  return [line, more];
}

// copy puts text on the clipboard and says so.
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    announce('Location copied.');
    toast('Location copied: ' + text);
  } catch {
    toast('Could not copy. The coordinates are: ' + text);
  }
}

function focusForm(id) {
  const el = document.getElementById(id);
  if (!el) return;
  el.scrollIntoView({ block: 'center' });
  el.focus();
}
