// The calculator: an ordinary phone calculator that computes right.
//
// It follows the order of operations, as the basic calculators of iOS
// and Android do: 2 + 3 × 4 = 14. After an operator the display shows
// what can already be worked out (2 + 3 × shows 3, then + shows 14).
// Numbers are JavaScript numbers rounded after
// every step to 15 significant digits (which drops the binary junk of
// floating point: 0.1 + 0.2 = 0.3, 1.1 × 1.1 = 1.21, 0.1 + 0.2 − 0.3 = 0)
// and shown rounded to 12 (1 ÷ 3 × 3 = 1). Up to 12 digits
// show; anything longer, larger than 12 digits or smaller than 1e-9 shows
// in exponent form (1.234568e15). Division by zero shows "Error".
// % divides by 100, or after + or − takes that percent of the left side
// (200 + 10 % = 220). ± changes the sign, ⌫ removes the last digit typed,
// C clears the number being typed and AC everything. = again repeats the
// last operation (2 × 3 = = gives 18), and so does = after a new number.
import { el } from './u.js';

const DIG = 12;
const OPS = { '+': 1, '−': 1, '×': 2, '÷': 2 };

const round = (n) => Number(n.toPrecision(15));

function apply(a, o, b) {
  let r;
  switch (o) {
    case '+': r = a + b; break;
    case '−': r = a - b; break;
    case '×': r = a * b; break;
    default:
      if (b === 0) throw new RangeError('div');
      r = a / b;
  }
  r = round(r);
  if (!isFinite(r)) throw new RangeError('big');
  return r;
}

// evaluate works out [n, op, n, op, n…] with × and ÷ before + and −.
function evaluate(t) {
  const s = [t[0]];
  for (let i = 1; i < t.length; i += 2) {
    if (OPS[t[i]] === 2) s[s.length - 1] = apply(s[s.length - 1], t[i], t[i + 1]);
    else s.push(t[i], t[i + 1]);
  }
  let r = s[0];
  for (let i = 1; i < s.length; i += 2) r = apply(r, s[i], s[i + 1]);
  return r;
}

function expo(n) {
  let [m, e] = n.toExponential(6).split('e');
  if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
  return m + 'e' + e.replace('+', '');
}

// fmt shows a number as the display does.
export function fmt(n) {
  if (!isFinite(n)) return 'Error';
  n = Number(n.toPrecision(DIG));
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1e12 || a < 1e-9) return expo(n);
  const ints = Math.max(1, Math.floor(Math.log10(a)) + 1);
  let s = n.toFixed(Math.max(0, Math.min(DIG - ints, 20)));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (s === '0' || s === '-0' || s.replace(/\D/g, '').length > DIG) return expo(n);
  return s;
}

// Calc is the calculator's state, without any DOM.
export class Calc {
  constructor() {
    this.reset();
  }

  reset() {
    this.toks = []; // [n, op, n, op]: what waits for the next number
    this.entry = null; // the number being typed, as typed
    this.x = null; // a number made by %, ± or paste, standing for an entry
    this.val = 0; // the last result
    this.err = false;
    this.rep = null; // {o, b}: what = repeats
    this.typed = ''; // digits typed for this entry, leading zeros kept
    this.plain = false; // this entry is digits only, with no operator pending
  }

  operand() {
    if (this.entry !== null) return Number(this.entry);
    return this.x;
  }

  display() {
    if (this.err) return 'Error';
    if (this.entry !== null) return this.entry;
    return fmt(this.x !== null ? this.x : this.val);
  }

  // label is what the clear key says: C while a number is being typed.
  label() {
    return !this.err && (this.entry !== null || this.x !== null) ? 'C' : 'AC';
  }

  // pin returns the digits typed if the entry is a plain run of 4 to 8
  // digits with nothing pending: the only input a hidden action reads.
  pin() {
    return this.plain && this.entry !== null && this.toks.length === 0 && /^\d{4,8}$/.test(this.typed) ? this.typed : '';
  }

  guard(f) {
    try {
      f();
    } catch {
      this.reset();
      this.err = true;
    }
  }

  digit(d) {
    if (this.err) this.reset();
    if (this.entry === null) {
      this.x = null;
      this.entry = d === '.' ? '0.' : d;
      this.typed = d === '.' ? '' : d;
      this.plain = d !== '.' && this.toks.length === 0;
      return;
    }
    if (this.entry.replace(/\D/g, '').length >= DIG) return;
    if (d === '.') {
      if (!this.entry.includes('.')) this.entry += '.';
      this.plain = false;
      return;
    }
    this.typed += d;
    if (this.entry === '0') this.entry = d;
    else if (this.entry === '-0') this.entry = '-' + d;
    else this.entry += d;
  }

  op(o) {
    if (this.err) return;
    this.guard(() => {
      const v = this.operand();
      const n = this.toks.length;
      if (v === null && n && OPS[this.toks[n - 1]]) {
        this.toks[n - 1] = o;
      } else {
        this.toks.push(v === null ? this.val : v, o);
      }
      this.entry = null;
      this.x = null;
      this.plain = false;
      const t = this.toks.slice(0, -1);
      if (OPS[o] === 1) {
        this.val = evaluate(t);
      } else {
        let i = t.length - 1;
        while (i > 1 && OPS[t[i - 1]] === 2) i -= 2;
        this.val = evaluate(t.slice(i));
      }
    });
  }

  equals() {
    if (this.err) return;
    this.guard(() => {
      const v = this.operand();
      if (this.toks.length === 0) {
        let r = v === null ? this.val : v;
        if (this.rep) r = apply(r, this.rep.o, this.rep.b);
        this.val = r;
      } else {
        const b = v === null ? this.val : v;
        const t = [...this.toks, b];
        this.rep = { o: this.toks[this.toks.length - 1], b };
        this.val = evaluate(t);
      }
      this.toks = [];
      this.entry = null;
      this.x = null;
      this.plain = false;
      this.typed = '';
    });
  }

  percent() {
    if (this.err) return;
    this.guard(() => {
      const v = this.operand() ?? this.val;
      const n = this.toks.length;
      if (n && OPS[this.toks[n - 1]] === 1) {
        this.x = round((evaluate(this.toks.slice(0, -1)) * v) / 100);
      } else {
        this.x = round(v / 100);
      }
      this.entry = null;
      this.plain = false;
    });
  }

  neg() {
    if (this.err) return;
    this.plain = false;
    if (this.entry !== null) {
      this.entry = this.entry.startsWith('-') ? this.entry.slice(1) : '-' + this.entry;
      return;
    }
    this.x = -(this.operand() ?? this.val);
  }

  back() {
    if (this.err || this.entry === null) return;
    this.entry = this.entry.slice(0, -1);
    if (this.entry === '' || this.entry === '-') this.entry = '0';
    this.typed = this.typed.slice(0, -1);
  }

  clear() {
    if (this.label() === 'C') {
      this.entry = null;
      this.x = null;
      this.typed = '';
      this.plain = false;
      return;
    }
    this.reset();
  }

  // paste takes a number as typed elsewhere; false if it is not one.
  paste(s) {
    const t = s.trim().replace(/[,\s]/g, '');
    if (!/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(t) || !isFinite(Number(t))) return false;
    if (this.err) this.reset();
    this.entry = null;
    this.x = round(Number(t));
    this.plain = false;
    return true;
  }
}

const KEYS = [
  ['AC', 'fn', 'clear'], ['±', 'fn', 'neg'], ['%', 'fn', 'pct'], ['÷', 'op'],
  ['7'], ['8'], ['9'], ['×', 'op'],
  ['4'], ['5'], ['6'], ['−', 'op'],
  ['1'], ['2'], ['3'], ['+', 'op'],
  ['⌫', 'fn', 'back'], ['0'], ['.'], ['=', 'op', 'eq'],
];

// mount builds the calculator in root and returns the disguise the hidden
// machinery plugs into (see h.js).
export function mount(root) {
  const c = new Calc();
  const disp = el('div', { id: 'd', class: 'd', role: 'status' });
  const keys = {};
  const pad = el('div', { class: 'pad' });
  for (const [k, cls = 'n', name] of KEYS) {
    const b = el('button', { type: 'button', class: 'k ' + cls, 'data-k': name || k }, k);
    keys[name || k] = b;
    pad.append(b);
  }
  root.replaceChildren(el('main', { class: 'calc' }, el('div', { class: 'top' }, disp), pad));

  const show = () => {
    const s = c.display();
    disp.textContent = s;
    disp.dataset.len = String(Math.min(s.length, 14));
    keys.clear.textContent = c.label();
    for (const o of ['÷', '×', '−', '+']) {
      const n = c.toks.length;
      keys[o].classList.toggle('on', c.entry === null && c.x === null && n > 0 && c.toks[n - 1] === o);
    }
  };
  const act = {
    '0': () => c.digit('0'), '.': () => c.digit('.'),
    '+': () => c.op('+'), '−': () => c.op('−'), '×': () => c.op('×'), '÷': () => c.op('÷'),
    neg: () => c.neg(), pct: () => c.percent(), back: () => c.back(),
  };
  for (let i = 1; i <= 9; i++) act[String(i)] = () => c.digit(String(i));
  pad.addEventListener('click', (e) => {
    const b = e.target.closest('[data-k]');
    if (!b || !act[b.dataset.k]) return;
    act[b.dataset.k]();
    show();
  });
  const keymap = { '/': '÷', '*': '×', x: '×', '-': '−', '+': '+', '%': 'pct', ',': '.', '.': '.', Backspace: 'back' };
  show();
  return {
    root,
    eq: keys.eq,
    clear: keys.clear,
    display: disp,
    pin: () => c.pin(),
    // tapEq and tapClear are what a short press of = and AC do.
    tapEq: () => { c.equals(); show(); },
    tapClear: () => { c.clear(); show(); },
    reset: () => { c.reset(); show(); },
    paste: (s) => { const ok = c.paste(s); if (ok) show(); return ok; },
    // key handles the keyboard for everything but = and the clear key,
    // which the hidden machinery holds.
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
