// setup.js is the first sign-in of a new account: the setup link's token
// (in the URL fragment, which never reaches a server log, and is wiped
// from the address bar at once) and a new password give a TOTP secret for
// the authenticator app; a code from the app proves it and signs in.

import { api, APIError, message } from './api.js';
import { h, clear, field } from './dom.js';

export function setup(root, token, done) {
  const pw = h('input', { id: 'setup-password', name: 'password', type: 'password', autocomplete: 'new-password', minlength: '12', maxlength: '256', required: true });
  const pw2 = h('input', { id: 'setup-password2', name: 'password2', type: 'password', autocomplete: 'new-password', maxlength: '256', required: true });
  const err = h('p', { class: 'error', role: 'alert', hidden: true });
  const step1 = h('form', { novalidate: true, on: { submit: async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (pw.value !== pw2.value) { err.textContent = 'The two passwords differ.'; err.hidden = false; return; }
    try {
      const res = await api('POST', '/v1/auth/setup', { token, password: pw.value });
      second(res);
    } catch (ex) {
      err.textContent = ex instanceof APIError && ex.status === 404
        ? 'This setup link has been used or has expired. Ask your administrator for a new one.'
        : (ex.fields && ex.fields.length ? ex.fields.map((f) => `${f.field === 'password' ? 'Password' : f.field} ${f.problem}`).join('; ') : message(ex));
      err.hidden = false;
    }
  } } },
  h('h1', { id: 'setup-title' }, 'Set up your account'),
  field('Choose a password (at least 12 characters)', pw),
  field('The same password again', pw2),
  err,
  h('button', { type: 'submit', class: 'primary wide' }, 'Continue'));

  function second(res) {
    const code = h('input', { id: 'setup-totp', name: 'totp', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', required: true });
    const err2 = h('p', { class: 'error', role: 'alert', hidden: true });
    const form = h('form', { novalidate: true, on: { submit: async (e) => {
      e.preventDefault();
      try {
        const me = await api('POST', '/v1/auth/setup/confirm', { token, totp: code.value.trim() });
        done(me);
      } catch (ex) {
        err2.textContent = ex instanceof APIError && ex.status === 401 ? 'That code did not match. Try the next one.' : message(ex);
        err2.hidden = false;
      }
    } } },
    h('h1', { id: 'setup-title' }, 'Add Waymark to your authenticator app'),
    h('p', {}, 'In your authenticator app, scan this code, or add an account with the key below it (time-based, 6 digits):'),
    res.qr_svg ? h('img', { class: 'qr', id: 'setup-qr', alt: 'QR code for your authenticator app', src: 'data:image/svg+xml;base64,' + btoa(res.qr_svg) }) : null,
    h('p', { class: 'code-once', id: 'setup-secret' }, res.totp_secret.replace(/(.{4})/g, '$1 ').trim()),
    h('p', {}, h('a', { href: res.otpauth_url }, 'Or open it in an authenticator app on this device')),
    field('Then enter the 6-digit code it shows', code),
    err2,
    h('button', { type: 'submit', class: 'primary wide' }, 'Finish and sign in'));
    clear(root).append(form);
    code.focus();
  }

  clear(root).append(step1);
  pw.focus();
}
