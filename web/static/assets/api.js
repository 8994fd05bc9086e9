// api.js is the only place the dashboard talks HTTP. Every call is
// same-origin with the session cookie; nothing sensitive goes in a URL.

// APIError is a refused or failed call: status, the server's fixed public
// message, per-field problems, who claimed an alert, and whether the
// server wants the password and code again.
export class APIError extends Error {
  constructor(status, body) {
    super((body && body.error) || `request failed (${status})`);
    this.status = status;
    this.fields = (body && body.fields) || [];
    this.claimedBy = body && body.claimed_by;
    // detail is the server's own sentence on a refusal: why, and what to
    // do instead.
    this.detail = (body && body.detail) || '';
    this.reauth = !!(body && body.reauth_required);
    this.retryAfter = 0;
  }
}

// api sends one JSON request. A 401 on anything but sign-in also fires a
// "waymark:session-ended" event: the page goes read-only until sign-in.
// opts.timeout (ms) gives up on a server that does not answer (status 0).
export async function api(method, path, body, opts) {
  const init = { method, credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } };
  if (opts && opts.timeout) init.signal = AbortSignal.timeout(opts.timeout);
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, { error: 'no connection to the server' });
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (!res.ok) {
    const err = new APIError(res.status, data);
    err.retryAfter = Number(res.headers.get('Retry-After')) || 0;
    if (res.status === 401 && !path.startsWith('/v1/auth/login')) {
      window.dispatchEvent(new CustomEvent('waymark:session-ended'));
    }
    throw err;
  }
  return data;
}

// message turns an APIError into one sentence for the person at the screen.
export function message(err) {
  if (!(err instanceof APIError)) return 'Something went wrong. Try again.';
  switch (err.status) {
    case 0: return 'No connection to the server. Check your network and try again.';
    case 401: return 'Your session has ended. Sign in again.';
    case 403: return err.reauth ? 'Please confirm your password and code.' : 'You are not allowed to do that.';
    case 404: return 'Not found, or not yours to see.';
    case 409: return err.detail || (err.claimedBy ? `Already claimed by ${err.claimedBy}.` : 'Someone else changed this first. Look again.');
    case 422: return 'Please check the highlighted fields.';
    case 429: return `Too many attempts. Try again in ${err.retryAfter || 'a few'} seconds.`;
    case 503: return 'The service is busy or unavailable. Try again in a moment.';
    default: return 'Something went wrong. Try again.';
  }
}
