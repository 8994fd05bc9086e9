// The unit converter: the second disguise. Length, weight and
// temperature, with its own keypad; "=" converts. It plugs into the same
// hidden machinery as the calculator (see h.js): "=" and C are the keys
// held, and the digits typed since the last conversion are what a PIN is
// read from.
import { el } from './u.js';
import { fmt } from './c.js';

const round = (n) => Number(n.toPrecision(12));
const lin = (f) => ({ to: (v) => v * f, from: (v) => v / f });

// Units by kind: [symbol, name, {to: value → base, from: base → value}].
export const UNITS = {
  Length: [
    ['mm', 'millimetres', lin(0.001)], ['cm', 'centimetres', lin(0.01)], ['m', 'metres', lin(1)],
    ['km', 'kilometres', lin(1000)], ['in', 'inches', lin(0.0254)], ['ft', 'feet', lin(0.3048)],
    ['yd', 'yards', lin(0.9144)], ['mi', 'miles', lin(1609.344)],
  ],
  Weight: [
    ['g', 'grams', lin(0.001)], ['kg', 'kilograms', lin(1)], ['oz', 'ounces', lin(0.028349523125)],
    ['lb', 'pounds', lin(0.45359237)], ['st', 'stone', lin(6.35029318)],
  ],
  Temperature: [
    ['°C', 'Celsius', { to: (v) => v, from: (v) => v }],
    ['°F', 'Fahrenheit', { to: (v) => ((v - 32) * 5) / 9, from: (v) => (v * 9) / 5 + 32 }],
    ['K', 'kelvin', { to: (v) => v - 273.15, from: (v) => v + 273.15 }],
  ],
};
const START = { Length: ['cm', 'in'], Weight: ['kg', 'lb'], Temperature: ['°C', '°F'] };

// convert converts v between two units of a kind, rounded to 12
// significant digits.
export function convert(kind, from, to, v) {
  const u = (s) => UNITS[kind].find((x) => x[0] === s)[2];
  return round(u(to).from(u(from).to(v)));
}

const KEYS = [
  ['7'], ['8'], ['9'], ['C', 'fn', 'clear'],
  ['4'], ['5'], ['6'], ['⌫', 'fn', 'back'],
  ['1'], ['2'], ['3'], ['±', 'fn', 'neg'],
  ['0'], ['.'], ['⇅', 'fn', 'swap'], ['=', 'op', 'eq'],
];

export function mount(root) {
  let kind = 'Length';
  let entry = '0';
  let typed = '';
  let plain = true;
  let fresh = false; // the next digit starts a new number
  let shown = false; // a result is on screen

  const tabs = el('div', { class: 'tabs', role: 'tablist' });
  for (const k of Object.keys(UNITS)) tabs.append(el('button', { type: 'button', class: 'tab', 'data-kind': k, role: 'tab' }, k));
  const from = el('select', { id: 'uf', 'aria-label': 'From' });
  const to = el('select', { id: 'ut', 'aria-label': 'To' });
  const disp = el('div', { id: 'd', class: 'd', role: 'status' });
  const res = el('div', { id: 'r', class: 'r' });
  const keys = {};
  const pad = el('div', { class: 'pad' });
  for (const [k, cls = 'n', name] of KEYS) {
    const b = el('button', { type: 'button', class: 'k ' + cls, 'data-k': name || k }, k);
    keys[name || k] = b;
    pad.append(b);
  }
  root.replaceChildren(el('main', { class: 'conv' }, tabs,
    el('div', { class: 'box' }, el('div', { class: 'line' }, from, disp), el('div', { class: 'line' }, to, res)), pad));

  const fill = () => {
    for (const [s, sel] of [[START[kind][0], from], [START[kind][1], to]]) {
      sel.replaceChildren(...UNITS[kind].map(([sym, name]) => el('option', { value: sym }, sym + ' · ' + name)));
      sel.value = s;
    }
    for (const t of tabs.children) t.setAttribute('aria-selected', String(t.dataset.kind === kind));
  };
  const show = () => {
    disp.textContent = entry;
    res.textContent = shown ? fmt(convert(kind, from.value, to.value, Number(entry))) : '';
    disp.dataset.long = String(entry.length > 9);
    res.dataset.long = String(res.textContent.length > 9);
  };
  const reset = () => {
    entry = '0';
    typed = '';
    plain = true;
    fresh = false;
    shown = false;
    show();
  };
  const act = {
    '.': () => {
      if (fresh) { entry = '0'; fresh = false; typed = ''; }
      if (!entry.includes('.')) entry += '.';
      plain = false;
    },
    neg: () => { entry = entry.startsWith('-') ? entry.slice(1) : '-' + entry; plain = false; fresh = false; },
    back: () => {
      if (fresh) return;
      entry = entry.slice(0, -1);
      if (entry === '' || entry === '-') entry = '0';
      typed = typed.slice(0, -1);
    },
    swap: () => {
      const f = from.value;
      from.value = to.value;
      to.value = f;
    },
  };
  for (let i = 0; i <= 9; i++) {
    act[String(i)] = () => {
      const c = String(i);
      if (fresh) {
        entry = '0';
        typed = '';
        plain = true;
        fresh = false;
        shown = false;
      }
      if (entry.replace(/\D/g, '').length >= 12) return;
      typed += c;
      entry = entry === '0' ? c : entry === '-0' ? '-' + c : entry + c;
    };
  }
  pad.addEventListener('click', (e) => {
    const b = e.target.closest('[data-k]');
    if (!b || !act[b.dataset.k]) return;
    act[b.dataset.k]();
    show();
  });
  tabs.addEventListener('click', (e) => {
    const b = e.target.closest('[data-kind]');
    if (!b) return;
    kind = b.dataset.kind;
    fill();
    show();
  });
  from.addEventListener('change', show);
  to.addEventListener('change', show);
  fill();
  show();
  const keymap = { ',': '.', '.': '.', Backspace: 'back' };
  return {
    root,
    eq: keys.eq,
    clear: keys.clear,
    display: disp,
    pin: () => (plain && !fresh && /^\d{4,8}$/.test(typed) ? typed : ''),
    tapEq: () => { shown = true; fresh = true; typed = ''; show(); },
    tapClear: reset,
    reset: () => { kind = 'Length'; fill(); reset(); },
    paste: (s) => {
      const t = s.trim().replace(/[,\s]/g, '');
      if (!/^-?(\d+\.?\d*|\.\d+)$/.test(t) || t.replace(/\D/g, '').length > 12) return false;
      entry = t;
      plain = false;
      fresh = false;
      shown = false;
      show();
      return true;
    },
    key: (k) => {
      const a = /^[0-9]$/.test(k) ? act[k] : act[keymap[k]];
      if (!a) return false;
      a();
      show();
      return true;
    },
    eqKeys: ['=', 'Enter'],
    clearKeys: ['Delete', 'c', 'C'],
  };
}
