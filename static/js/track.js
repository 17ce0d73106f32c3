// The tracking page: look a report up by its tracking code (typed, or ?code= in the URL) and
// tell its story in plain words. Like the report page, state → render, so a language switch
// re-renders; server text reaches the page only through textContent.

import { t, has, tOr, initI18n, onLangChange, lang } from './i18n.js';
import { ownReports, followed, unfollow } from './mine.js';
import { request } from './api.js';
import { $, el, showFieldError } from './dom.js';
import { localName, chainText, formatTime, statusTone, timeEl } from './format.js';

// Codes look like K7QM-4XPT; accept any mix of letters, digits and dashes, so a new code
// format on the server does not need a new page, while "/" or "?" can never reach the path.
const CODE = /^[A-Z0-9][A-Z0-9-]{2,39}$/;

let view = null;      // null | {kind: 'loading'} | {kind: 'case', data, code} | {kind: 'message', key, vars}
let codeError = null; // {key} for the code box
let lookupCtrl = null;

/** Typed codes: trimmed, upper case, inner spaces gone (people copy "k7qm 4xpt"). */
function normalizeCode(text) {
  return text.replace(/\s+/g, '').toUpperCase();
}

function statusName(status) {
  return tOr(`status.${status}`, String(status ?? ''));
}

function channelName(channel) {
  return tOr(`channel.${channel}`, String(channel));
}

// One sentence per event: by its kind (a move, or what the platform recorded), else by the
// status it led to, in words either way.
function eventText(ev) {
  if (has(`event.${ev.type}`)) return t(`event.${ev.type}`);
  if (has(`event.${ev.status}`)) return t(`event.${ev.status}`);
  if (has(`status.${ev.status}`)) return t('case.statusChanged', { status: statusName(ev.status) });
  return String(ev.type ?? '');
}

// The four steps a citizen follows, and how far a status has come: index of the step now
// running (done below it); 4 when all are done; null where the bar says nothing (not accepted,
// merged: the page explains those in words).
const STEPS = ['accepted', 'dispatched', 'handling', 'closed'];
const STEP_OF = {
  collected: 0, accepted: 1, dispatched: 2, returned: 1, signed_for: 2, in_progress: 2,
  extension_requested: 2, rework: 2, handled: 3, verified: 3, closed: 4, evaluated: 4,
};

function renderSteps(status) {
  const at = STEP_OF[status];
  const bar = $('case-steps');
  bar.hidden = at === undefined;
  if (bar.hidden) return;
  bar.replaceChildren(...STEPS.map((step, i) => {
    const done = i < at;
    const now = i === at;
    return el('li', { class: done ? 'step is-done' : now ? 'step is-current' : 'step', 'aria-current': now ? 'step' : null },
      el('span', { class: 'step-dot', 'aria-hidden': 'true', text: done ? '✓' : String(i + 1) }),
      el('span', { class: 'step-name', text: t(`steps.${step}`) }),
      el('span', { class: 'visually-hidden', text: done ? t('steps.done') : now ? t('steps.now') : '' }));
  }));
}

function departmentName(dep) {
  if (!dep) return '';
  if (typeof dep === 'string') return dep;
  return localName(dep);
}

// ---------- rendering

function render() {
  showFieldError('code', codeError ? t(codeError.key) : null);

  const message = $('track-message');
  message.className = 'message';
  if (view?.kind === 'loading') message.textContent = t('track.loading');
  else if (view?.kind === 'message') {
    message.textContent = t(view.key, view.vars);
    message.classList.add('is-warn');
  } else message.textContent = '';

  $('case').hidden = view?.kind !== 'case';
  if (view?.kind === 'case') renderCase(view.data, view.code);
  renderRating();
}

// The rating form shows once the case is closed, above the case; after rating, the rating
// itself. A merged report's status is the case it joined: its reporter is told who rates it.
function renderRating() {
  const data = view?.kind === 'case' ? view.data : null;
  const box = $('rating');
  box.hidden = !data || !(data.status === 'closed' || data.status === 'evaluated' || data.rating);
  if (box.hidden) return;
  const merged = Boolean(data.merged) && !data.rating;
  const done = data.rating || rated;
  $('rating-form').hidden = Boolean(done) || merged;
  $('rating-done').hidden = !done && !merged;
  if (merged) $('rating-done').textContent = t('rating.mergedNote');
  else if (done) $('rating-done').textContent = t('rating.thanks', { rating: t(`rating.${done.rating || done}`) });
  const secret = $('rating-secret');
  if (!secret.value) secret.value = storedSecret(data.tracking_code) || '';
}

function renderCase(data, code) {
  $('case-title').textContent = t('case.heading', { code: data.tracking_code || code });

  const badge = $('case-badge');
  badge.className = `badge badge-${statusTone(data.status)}`;
  badge.textContent = statusName(data.status);
  $('case-explain').textContent = data.merged ? t('track.merged') : tOr(`explain.${data.status}`, '');
  renderSteps(data.status);

  $('case-category').textContent = localName(data.category) || t('case.unknown');
  const g = data.grid;
  $('case-grid').textContent = (g && chainText([...(Array.isArray(g.chain) ? g.chain : []), g])) || t('case.unknown');
  const department = departmentName(data.department);
  $('case-department-row').hidden = !department;
  $('case-department').textContent = department;
  const open = data.deadline && !['closed', 'evaluated', 'rejected', 'merged'].includes(data.status);
  $('case-deadline-row').hidden = !open;
  if (open) {
    $('case-deadline').textContent = formatTime(data.deadline);
    const light = $('case-light');
    light.className = `light light-${data.light || 'green'}`;
    light.textContent = t(`light.${data.light || 'green'}`);
  }
  $('case-description').textContent = data.description || '';
  const photos = Array.isArray(data.photos) ? data.photos : [];
  $('case-photos-box').hidden = !photos.length;
  $('case-photos').replaceChildren(...photos.map((p, i) => el('li', {},
    el('a', { href: p.href }, el('img', { src: p.href, alt: p.caption || t('photos.alt', { n: i + 1 }), loading: 'lazy' })))));

  // Newest first: what happened last is what a citizen comes back for. Only the report itself
  // says how it came in; staff steps' channels (console, callback) mean nothing to a citizen.
  const events = (Array.isArray(data.timeline) ? data.timeline : [])
    .filter((ev) => ev && typeof ev === 'object')
    .sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0));
  const items = events.map((ev, i) => el('li', { class: i === 0 ? 'tl-item tl-current' : 'tl-item' },
    timeEl(ev.at),
    el('p', { class: 'tl-what', text: eventText(ev) }),
    ev.type === 'reported' && ev.channel ? el('p', { class: 'tl-meta', text: t('case.via', { channel: channelName(ev.channel) }) }) : null,
    ev.note ? el('p', { class: 'tl-note', text: t('case.note', { note: ev.note }) }) : null));
  $('timeline').replaceChildren(...items);
  $('timeline-empty').hidden = items.length > 0;
}

// ---------- my reports (this device's)

let followedReports = new Map(); // public id → the public answer, or null when it is gone
const FOLLOWED_SHOWN = 10;

function renderMine() {
  const own = ownReports();
  const ids = followed().slice(0, FOLLOWED_SHOWN);
  $('mine').hidden = own.length === 0 && ids.length === 0;
  $('mine-own-box').hidden = own.length === 0;
  $('mine-own').replaceChildren(...own.map((code) => el('li', {},
    el('button', { type: 'button', class: 'btn btn-secondary btn-small', data: { code }, text: code, 'aria-label': t('mine.open', { code }) }))));
  $('mine-followed-box').hidden = ids.length === 0;
  $('mine-followed').replaceChildren(...ids.map((id) => {
    const r = followedReports.get(id);
    const words = r ? (lang() === 'en' ? r.status_words?.en : r.status_words?.zh) || r.status : '';
    return el('li', { class: 'nearby-item', data: { publicId: id } },
      r === undefined ? el('p', { class: 'tl-meta', text: t('track.loading') })
        : r === null ? el('p', { class: 'tl-meta', text: t('mine.gone') })
          : el('p', { class: 'nearby-what' }, el('span', { class: 'badge', text: words }), ' ', r.description || ''),
      r ? el('p', { class: 'tl-meta' }, timeEl(r.updated_at, { style: 'short' })) : null,
      el('button', { type: 'button', class: 'btn btn-secondary btn-small', data: { unfollow: id }, text: t('mine.unfollow'),
        'aria-label': t('mine.unfollowLabel', { what: r?.description || id }) }));
  }));
}

async function loadFollowed() {
  const ids = followed().slice(0, FOLLOWED_SHOWN);
  await Promise.all(ids.map(async (id) => {
    const res = await request('GET', `/public/reports/${encodeURIComponent(id)}`);
    if (res.ok && res.data && typeof res.data === 'object') followedReports.set(id, res.data);
    else if (res.status === 404) followedReports.set(id, null);
  }));
  renderMine();
}

// ---------- lookup

async function lookup({ moveFocus }) {
  const code = normalizeCode($('code').value);
  codeError = !code ? { key: 'err.code.required' } : CODE.test(code) ? null : { key: 'err.code.invalid' };
  if (codeError) {
    view = null;
    render();
    $('code').focus();
    return;
  }
  $('code').value = code;
  // Keep the URL shareable and bookmarkable: it always shows the code on the page.
  history.replaceState(null, '', `?code=${encodeURIComponent(code)}`);

  lookupCtrl?.abort();
  const ctrl = new AbortController();
  lookupCtrl = ctrl;
  view = { kind: 'loading' };
  render();
  let res;
  try {
    res = await request('GET', `/reports/${encodeURIComponent(code)}`, undefined, { signal: ctrl.signal });
  } catch {
    return; // cancelled by a newer lookup
  }
  if (ctrl.signal.aborted) return;

  if (res.ok && res.data && typeof res.data === 'object') view = { kind: 'case', data: res.data, code };
  else if (res.status === 404) view = { kind: 'message', key: 'track.notFound', vars: { code } };
  else if (res.status === 0) view = { kind: 'message', key: 'common.network' };
  else view = { kind: 'message', key: 'track.failed', vars: { status: res.status } };
  render();
  if (moveFocus && view.kind === 'case') $('case-title').focus();
}

// ---------- rating

let rated = null; // {rating} after this page rated

function storedSecret(code) {
  try {
    return localStorage.getItem(`onegrid.secret.${code}`);
  } catch {
    return null;
  }
}

async function rate(event) {
  event.preventDefault();
  const data = view?.data;
  const rating = $('rating-form').querySelector('input[name="rating"]:checked')?.value;
  const secret = $('rating-secret').value.trim();
  const status = $('rating-status');
  if (!rating || !secret) {
    status.textContent = t(!rating ? 'rating.choose' : 'rating.needSecret');
    return;
  }
  const button = $('rating-submit');
  button.disabled = true;
  const comment = $('rating-comment').value.trim();
  const body = { secret, rating, ...(comment ? { comment } : {}) };
  const res = await request('POST', `/reports/${encodeURIComponent(data.tracking_code)}/rating`, body);
  button.disabled = false;
  if (res.ok) {
    rated = { rating };
    status.textContent = '';
    await lookup({ moveFocus: false });
    $('rating-done').focus?.();
    return;
  }
  status.textContent = res.status === 403 ? t('rating.wrongSecret')
    : res.status === 0 ? t('common.network')
      : [res.problem.title, res.problem.detail].filter(Boolean).join(' — ');
}

// ---------- wiring

initI18n();
onLangChange(() => {
  render();
  renderMine();
});
render();
renderMine();
loadFollowed();

$('track-form').addEventListener('submit', (e) => {
  e.preventDefault();
  lookup({ moveFocus: true });
});
$('rating-form').addEventListener('submit', rate);
$('mine').addEventListener('click', (e) => {
  const open = e.target.closest('button[data-code]');
  if (open) {
    $('code').value = open.dataset.code;
    lookup({ moveFocus: true });
    return;
  }
  const gone = e.target.closest('button[data-unfollow]');
  if (gone) {
    unfollow(gone.dataset.unfollow);
    followedReports.delete(gone.dataset.unfollow);
    renderMine();
    $('mine-title').focus?.();
  }
});
$('code').addEventListener('input', () => {
  if (!codeError) return;
  codeError = null;
  render();
});

const initial = new URLSearchParams(location.search).get('code');
if (initial) {
  $('code').value = initial;
  lookup({ moveFocus: false });
}
