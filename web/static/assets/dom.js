// dom.js builds the page node by node. The CSP's Trusted Types setting
// makes every HTML-string sink throw, so nothing here (or anywhere in the
// dashboard) parses markup: text always goes in as text.

// h makes an element. attrs: class, text, hidden, disabled, for, on
// ({event: fn}), and any other attribute (aria-*, data-*, type...). null,
// undefined and false attributes are left out. children: nodes, strings
// (as text) or arrays of them; null and false are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  // Forms are handled by script. Should one ever submit natively, POST
  // keeps its fields out of the URL (and the CSP's form-action 'none'
  // stops it anyway).
  if (tag === 'form') el.method = 'post';
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// fill appends children to el as h does (skipping null and false, which
// the DOM's own append would print as text) and returns el.
export function fill(el, ...children) {
  append(el, children);
  return el;
}

// clear empties el and returns it.
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

// $ finds one element.
export const $ = (sel, root = document) => root.querySelector(sel);

// icon is a decorative symbol hidden from screen readers: the words next
// to it carry the meaning.
export function icon(ch) {
  return h('span', { class: 'icon', 'aria-hidden': 'true', text: ch });
}

// field is a labelled form control with an optional hint and a slot for
// its error. The API field it feeds is the control's data-api attribute,
// or else its name.
export function field(label, control, hint) {
  const id = control.id || ('f-' + Math.random().toString(36).slice(2, 10));
  control.id = id;
  const err = h('div', { class: 'field-error', id: id + '-err', hidden: true });
  const parts = [h('label', { for: id }, label)];
  if (hint) {
    const hid = id + '-hint';
    parts.push(h('div', { class: 'hint', id: hid, text: hint }));
    control.setAttribute('aria-describedby', hid);
  }
  const name = control.dataset.api || control.name || '';
  return h('div', { class: 'field', 'data-field': name }, parts, control, err);
}

// showFieldErrors puts the API's per-field problems next to the controls
// of form (matched by data-field), and returns the problems it could not
// place so the caller can show them in one message.
export function showFieldErrors(form, fields) {
  for (const e of form.querySelectorAll('.field-error')) { e.hidden = true; e.textContent = ''; }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const rest = [];
  for (const f of fields || []) {
    const box = form.querySelector(`[data-field="${CSS.escape(f.field)}"]`);
    const err = box && box.querySelector('.field-error');
    if (!err) { rest.push(f); continue; }
    err.textContent = f.problem || f.message || 'is not valid';
    err.hidden = false;
    const ctl = box.querySelector('input, select, textarea');
    if (ctl) {
      ctl.setAttribute('aria-invalid', 'true');
      ctl.setAttribute('aria-describedby', [ctl.getAttribute('aria-describedby'), err.id].filter(Boolean).join(' '));
    }
  }
  return rest;
}

// announce reads msg out to screen readers without moving focus.
export function announce(msg) {
  const a = document.getElementById('announcer');
  a.textContent = '';
  // A new text node after a tick is announced even when msg repeats.
  setTimeout(() => { a.textContent = msg; }, 30);
}

// toast shows msg briefly (and announces it).
export function toast(msg) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}
