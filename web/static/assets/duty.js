// duty.js is going off duty from the dashboard. A responder who still holds
// claimed alerts hands each to a named colleague with a note (POST
// /v1/handover); any left without a colleague go back to the queue and
// escalate again, and the panel says so before anything is sent. Then the
// hub is told this person is off duty, so escalation stops counting on
// this dashboard, until "Back on duty".

import { api, message } from './api.js';
import { h, clear, $, field, showFieldErrors, toast, announce } from './dom.js';
import { KINDS } from './model.js';

export class Duty {
  constructor(app) {
    this.app = app;
    this.button = $('#duty-toggle');
    this.panel = $('#duty-panel');
    this.off = false;
    this.button.addEventListener('click', () => (this.off ? this.back() : this.open()));
  }

  // show offers the toggle to responders.
  show(on) {
    this.button.hidden = !on;
  }

  mine() {
    const me = this.app.me && this.app.me.id;
    return [...this.app.alerts.values()].filter((a) => a.owner === me && (a.state === 'acknowledged' || a.state === 'working'));
  }

  open() {
    const mine = this.mine();
    const panel = clear(this.panel);
    panel.hidden = false;
    const rows = mine.map((a, i) => {
      const k = KINDS[a.kind] || KINDS.panic;
      const to = h('input', { id: `handover-to-${i}`, name: 'to', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', maxlength: '64' });
      const note = h('textarea', { id: `handover-note-${i}`, name: 'note', maxlength: '4000', rows: '2' });
      return { a, to, note, el: h('fieldset', { 'data-handover': String(i) },
        h('legend', {}, `${k.label}: ${a.alias || 'Unknown sender'}`),
        field('Hand to (colleague\u2019s username)', to),
        field('What they need to know', note)) };
    });
    const error = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { id: 'duty-form', novalidate: true, on: { submit: (e) => { e.preventDefault(); this.submit(rows, form, error); } } },
      h('h2', { id: 'duty-title', tabindex: '-1' }, 'Going off duty'),
      mine.length
        ? h('p', { class: 'hint' }, `You hold ${mine.length === 1 ? 'one claimed alert' : mine.length + ' claimed alerts'}. Hand each to a colleague on duty with a note; any you leave without a colleague go back to the queue and escalate again from the start.`)
        : h('p', { class: 'hint' }, 'You hold no claimed alerts. Going off duty stops escalation counting on this dashboard until you come back on duty.'),
      rows.map((r) => r.el),
      error,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary act', id: 'duty-submit' }, mine.length ? 'Hand over and go off duty' : 'Go off duty'),
        h('button', { type: 'button', class: 'quiet act', on: { click: () => this.close() } }, 'Cancel')));
    panel.append(form);
    $('#duty-title').focus();
  }

  async submit(rows, form, error) {
    error.hidden = true;
    const sent = rows.filter((r) => r.to.value.trim() !== '');
    // The API names problems by position in what was sent
    // (handovers[i].to): point each row's fields at its position.
    for (const r of rows) {
      const j = sent.indexOf(r);
      r.to.closest('.field').dataset.field = j < 0 ? '' : `handovers[${j}].to`;
      r.note.closest('.field').dataset.field = j < 0 ? '' : `handovers[${j}].note`;
    }
    const handovers = sent.map((r) => ({ alert: r.a.id, to: r.to.value.trim(), note: r.note.value }));
    try {
      const res = await api('POST', '/v1/handover', { handovers });
      const results = (res && res.results) || [];
      const handed = results.filter((x) => x.to).length;
      const returned = results.filter((x) => x.returned).length;
      this.off = true;
      if (this.app.live) this.app.live.setDuty(false);
      this.button.textContent = 'Back on duty';
      document.body.dataset.duty = 'off';
      this.close();
      const parts = ['You are off duty.'];
      if (handed) parts.push(`${handed} handed over.`);
      if (returned) parts.push(`${returned} back in the queue.`);
      toast(parts.join(' '));
      announce(parts.join(' '));
    } catch (e) {
      const rest = showFieldErrors(form, e.fields);
      error.textContent = rest.length ? rest.map((f) => `${f.field} ${f.problem}`).join('; ') : (e.fields ? 'Check the fields marked above.' : message(e));
      error.hidden = false;
    }
  }

  back() {
    this.off = false;
    this.app.live && this.app.live.setDuty(true);
    this.button.textContent = 'Go off duty';
    document.body.dataset.duty = 'on';
    toast('You are on duty.');
    announce('You are on duty.');
  }

  close() {
    clear(this.panel);
    this.panel.hidden = true;
    this.button.focus();
  }
}
