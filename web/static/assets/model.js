// model.js reads the API's alert shapes into what the screens show, and
// formats times. Every screen goes through here, so a change in the API's
// field names is one edit.

export const KINDS = {
  duress: { label: 'Duress', icon: 'warning' },
  panic: { label: 'Panic', icon: 'bell' },
  'missed-checkin': { label: 'Missed check-in', icon: 'clock' },
  message: { label: 'Message', icon: 'message' },
};

// SOURCES names what raised an alert, as a queue card says it.
export const SOURCES = {
  app: 'App', sms: 'Text', checkin: 'Check-in', drill: 'Drill',
};

// VERDICTS are the contact verdicts: a class for the colour, an icon and
// the words (the icon is never alone).
export const VERDICTS = {
  'SAFE TO CALL': { cls: 'call', icon: 'check', short: 'Safe to call' },
  'TEXT ONLY': { cls: 'text', icon: 'chat', short: 'Text only' },
  'DO NOT CONTACT': { cls: 'dnc', icon: 'block', short: 'Do not contact' },
};

// overdue reports whether an unclaimed alert has passed the first step of
// its policy.
export function overdue(a, now = Date.now()) {
  return a.state === 'raised' && !a.owner && !!a.overdueAt && now >= a.overdueAt;
}

export const OUTCOMES = [
  ['safe', 'Safe'],
  ['police-attended', 'Police attended'],
  ['referred', 'Referred'],
  ['accidental', 'Accidental'],
  ['suspected-third-party', 'Suspected third party'],
  ['unverified', 'Unverified'],
  ['no-contact', 'No contact'],
];

const LIVE = new Set(['raised', 'acknowledged', 'working']);

function ms(v) {
  if (!v) return 0;
  if (typeof v === 'number') return v;
  const t = Date.parse(v);
  return Number.isNaN(t) ? 0 : t;
}

function kindOf(a) {
  if (a.duress || a.class === 'duress') return 'duress';
  return KINDS[a.class] ? a.class : 'panic';
}

// alertOf reads one alert, as the list, the snapshot or the full view
// gives it (GET /v1/alerts), into the shape the screens use.
export function alertOf(a) {
  a = a || {};
  const kind = kindOf(a);
  const out = {
    id: a.id,
    priority: Number(a.priority) || 0,
    state: a.state || 'raised',
    kind,
    duress: kind === 'duress',
    alias: a.alias || (a.case_id ? '' : a.mode === 'drill' ? 'Drill (no survivor)' : 'Unknown sender'),
    team: a.team || '',
    raisedAt: ms(a.raised_at),
    // Only when the app's outbox held it a minute or more (no network).
    phoneAt: ms(a.phone_raised_at),
    owner: a.owner ? a.owner.id : '',
    ownerName: a.owner ? (a.owner.name || '') : '',
    followUp: !!a.welfare_followup,
    expiredCase: !!a.expired_case,
    // Nobody has assessed an unknown sender: no DASH level to show.
    risk: a.case_id ? (a.risk || '') : '',
    assessed: !!a.case_id,
    source: a.source || '',
    mode: a.mode || '',
    verdict: a.verdict || (a.contact && a.contact.code) || '',
    district: a.district || '',
    overdueAt: ms(a.overdue_at),
  };
  out.open = LIVE.has(out.state) || out.followUp;
  return out;
}

// viewOf reads the full alert view (GET /v1/alerts/{id}).
export function viewOf(raw) {
  const a = alertOf(raw);
  const c = raw.contact || {};
  const risk = raw.risk_assessment || {};
  const marac = raw.marac || {};
  const trail = (raw.location_trail || []).map(locationOf);
  return {
    ...a,
    caseId: raw.case_id || '',
    verdict: { code: c.code || 'DO NOT CONTACT', reason: c.reason || '', until: ms(c.until) },
    openingLine: c.opening_line || '',
    texts: !!c.texts,
    throughWaymark: !!c.through_waymark,
    riskLevel: risk.level || a.risk || '',
    riskDate: risk.assessed_on || '',
    marac: { referred: !!marac.referred, date: marac.date || '' },
    // A case referred to MARAC within the last 12 months: any alert on it
    // may be a repeat incident.
    possibleRepeat: !!marac.active,
    children: raw.children || { count: 0 },
    communication: raw.communication || {},
    responsePlan: raw.response_plan || '',
    location: trail.length ? trail[trail.length - 1] : null,
    trail,
    timeline: raw.timeline || [],
    review: !!raw.review_flagged,
    seenBy: raw.seen_by || [],
    checkins: raw.checkins || null,
    outcome: raw.outcome || '',
    cancelUntil: ms(raw.cancel_until),
    // The hand-off to the case-management system has not gone through
    // yet: the responder should know the record is not filed.
    recordStatus: raw.record_status || '',
  };
}

// locationOf reads one fix. Its age comes from the server's own count of
// seconds, so a phone whose clock is off still shows how old the fix is.
function locationOf(l) {
  const age = num(l.age_seconds);
  return {
    lat: num(l.lat), lon: num(l.lon),
    accuracy: num(l.accuracy_m),
    at: age !== null ? Date.now() - age * 1000 : ms(l.at),
    sector: l.sector || '',
    sectorKm: num(l.sector_km),
  };
}

function num(v) {
  const n = Number(v);
  return v === null || v === undefined || v === '' || Number.isNaN(n) ? null : n;
}

// compare orders the queue: priority first, then the oldest first.
export function compare(a, b) {
  return (b.priority - a.priority) || (a.raisedAt - b.raisedAt) || String(a.id).localeCompare(String(b.id));
}

// age is a compact, always-accurate "how long ago": 45 s, 3 min 05 s,
// 2 h 14 min, 3 d 4 h.
export function age(since, now = Date.now()) {
  if (!since) return '';
  let s = Math.max(0, Math.floor((now - since) / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60); s %= 60;
  if (m < 60) return `${m} min ${String(s).padStart(2, '0')} s`;
  const hh = Math.floor(m / 60);
  if (hh < 24) return `${hh} h ${m % 60} min`;
  return `${Math.floor(hh / 24)} d ${hh % 24} h`;
}

// heldWords says when the phone raised an alert its outbox held and when
// it arrived: "raised 14 min ago, arrived now". The phone's clock may be
// off; the words are shown, never used to decide anything.
export function heldWords(phoneAt, arrivedAt, now = Date.now()) {
  const ago = (t) => {
    const m = Math.floor(Math.max(0, now - t) / 60000);
    if (m < 1) return 'now';
    return m < 60 ? `${m} min ago` : `${Math.floor(m / 60)} h ${m % 60} min ago`;
  };
  return `raised ${ago(phoneAt)}, arrived ${ago(arrivedAt)}`;
}

// ageWords is age for screen readers ("3 minutes ago").
export function ageWords(since, now = Date.now()) {
  const s = Math.max(0, Math.floor((now - since) / 1000));
  if (s < 60) return `${s} seconds ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} minute${m === 1 ? '' : 's'} ago`;
  const h = Math.floor(m / 60);
  return `${h} hour${h === 1 ? '' : 's'} ago`;
}

const london = { timeZone: 'Europe/London' };

// date shows a calendar date (YYYY-MM-DD or a time) as "12 Mar 2026".
export function date(v) {
  if (!v) return '';
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(v + 'T12:00:00Z') : ms(v);
  if (!t) return '';
  return new Date(t).toLocaleDateString('en-GB', { ...london, day: 'numeric', month: 'short', year: 'numeric' });
}

// clock shows a time of day in London, with the date when not today.
export function clock(v) {
  const t = ms(v);
  if (!t) return '';
  const d = new Date(t);
  const sameDay = d.toLocaleDateString('en-GB', london) === new Date().toLocaleDateString('en-GB', london);
  const time = d.toLocaleTimeString('en-GB', { ...london, hour: '2-digit', minute: '2-digit' });
  return sameDay ? time : `${d.toLocaleDateString('en-GB', { ...london, day: 'numeric', month: 'short' })} ${time}`;
}

// stateText says where an alert is, naming who claimed it.
export function stateText(a, me) {
  const who = a.owner && me && a.owner === me.id ? 'you' : (a.ownerName || 'someone else');
  switch (a.state) {
    case 'raised': return a.followUp ? 'Welfare follow-up due' : 'New, unclaimed';
    case 'acknowledged': return `Claimed by ${who}`;
    case 'working': return `Being worked on by ${who}`;
    case 'resolved': return 'Resolved';
    case 'cancelled': return a.followUp ? 'Cancelled, welfare follow-up due' : 'Cancelled';
    case 'expired': return 'Expired';
    default: return a.state;
  }
}

// commText summarises communication needs: "Urdu; interpreter (female)".
export function commText(c) {
  if (!c) return '';
  const parts = [];
  if (c.language) parts.push(languageName(c.language));
  for (const n of c.needs || []) {
    const label = { voice: 'voice', 'text-only': 'text only', bsl: 'BSL', interpreter: 'interpreter' }[n] || n;
    parts.push(n === 'interpreter' && c.interpreter_gender && c.interpreter_gender !== 'any' ? `${label} (${c.interpreter_gender})` : label);
  }
  return parts.join('; ');
}

function languageName(code) {
  try {
    return new Intl.DisplayNames(['en-GB'], { type: 'language' }).of(code) || code;
  } catch {
    return code;
  }
}

// childrenText: "2 (0-4, 5-10)" or "None recorded".
export function childrenText(ch) {
  if (!ch || !ch.count) return 'None recorded';
  return ch.age_bands && ch.age_bands.length ? `${ch.count} (ages ${ch.age_bands.join(', ')})` : String(ch.count);
}

export const validAlertID = (id) => /^a_[a-z]{1,62}$/.test(id || '');
export const validCaseID = (id) => /^c_[a-z]{20}$/.test(id || '');
