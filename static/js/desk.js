// The department desk (desk.html), for department staff and grid workers: their own cases
// (the server scopes GET /api/cases to them), each case's deadline and light, the moves the
// server allows the caller now, and the result with photos. Photos are downscaled and
// re-encoded as JPEG in the browser, which also drops their EXIF (and so any GPS position);
// the server strips metadata again whatever arrives.

import './i18n-desk.js';
import { t, initI18n, onLangChange } from './i18n.js';
import { requireStaff, staffFetch, problemText, staffBar, session } from './staff.js';
import { request } from './api.js';
import { localName, formatTime } from './format.js';
import { downscale } from './photos.js';

const STATUSES = [
  'dispatched', 'signed_for', 'in_progress', 'extension_requested', 'handled', 'rework',
  'returned', 'verified', 'closed', 'collected', 'accepted', 'rejected', 'merged', 'evaluated',
];
const LIGHTS = ['red', 'yellow', 'green'];
/** What each move needs in the note field (case.rs's table); the rest take an optional note. */
const NEEDS = {
  return: 'reason', request_extension: 'reason', refuse_extension: 'reason', reject: 'reason',
  verify_fail: 'reason', handle: 'note', self_handle: 'note',
};
/** The moves that report a result on site and so may carry photos (the server allows the same). */
const PHOTO_MOVES = ['handle', 'self_handle', 'verify_pass', 'verify_fail'];
/** The move a desk most often makes from a status: shown as the primary button. */
const PRIMARY = ['sign_for', 'handle', 'verify_pass', 'start'];
const MAX_PHOTOS = 4;

const $ = (id) => document.getElementById(id);
const state = {
  principal: null,
  categories: new Map(),
  items: [],
  next: null,
  selected: null, // the case id open in the panel
  detail: null, // GET /api/cases/{id}
  move: null, // the move whose form is open
  photos: [], // [{blob, url, data, caption}]
  objectUrls: [], // evidence images of the open case, revoked when it changes
  listSeq: 0,
  caseSeq: 0,
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for') node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function say(text, kind = '') {
  const line = $('desk-status');
  line.textContent = text;
  line.classList.toggle('is-ok', kind === 'ok');
  line.classList.toggle('is-error', kind === 'error');
}

function statusName(code) {
  return code ? t(`desk.status.${code}`) : '';
}

function moveName(code) {
  const key = `desk.move.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

function categoryName(code) {
  return localName(state.categories.get(code)) || code;
}

function lightName(light) {
  return t(LIGHTS.includes(light) ? `desk.light.${light}` : 'desk.light.none');
}

/** "2 h 15 min" from milliseconds. */
function duration(ms) {
  const minutes = Math.max(1, Math.round(Math.abs(ms) / 60000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return t('desk.time.dh', { d, h });
  if (h > 0) return t('desk.time.hm', { h, m });
  return t('desk.time.m', { m });
}

function lightBadge(light) {
  const known = LIGHTS.includes(light) ? light : 'none';
  return el('span', { class: `light light-${known}` },
    el('span', { class: 'light-dot', 'aria-hidden': 'true' }),
    el('span', { class: 'light-text', text: lightName(light) }));
}

// ---------- the list

function fillFilters() {
  const status = $('filter-status');
  const light = $('filter-light');
  const keep = [status.value, light.value];
  status.replaceChildren(el('option', { value: '', text: t('desk.filter.allStatus') }),
    ...STATUSES.map((s) => el('option', { value: s, text: statusName(s) })));
  light.replaceChildren(el('option', { value: '', text: t('desk.filter.allLight') }),
    ...LIGHTS.map((l) => el('option', { value: l, text: lightName(l) })));
  [status.value, light.value] = keep;
}

async function loadList({ more = false } = {}) {
  const seq = ++state.listSeq;
  const params = new URLSearchParams({ limit: '50' });
  if ($('filter-status').value) params.set('status', $('filter-status').value);
  if ($('filter-light').value) params.set('light', $('filter-light').value);
  if (more && state.next) params.set('after', state.next);
  say(t('desk.loading'));
  const res = await staffFetch('GET', `/cases?${params}`);
  if (seq !== state.listSeq) return; // a newer load started meanwhile
  if (!res.ok) {
    say(t('desk.loadFailed', { problem: problemText(res.problem) }), 'error');
    return;
  }
  const items = Array.isArray(res.data?.items) ? res.data.items : [];
  state.items = more ? state.items.concat(items) : items;
  state.next = res.data?.next || null;
  renderList();
  say(t('desk.loaded', { n: state.items.length }));
}

function renderList() {
  const rows = state.items.map((c) => {
    const open = el('button', {
      type: 'button', class: 'row-open', text: c.tracking_code,
      'aria-label': t('desk.list.open', { code: c.tracking_code }),
    });
    const tr = el('tr', { 'data-case-id': c.id, class: c.id === state.selected ? 'is-selected' : '' },
      el('td', {}, lightBadge(c.light)),
      el('td', { class: 'mono' }, open),
      el('td', { text: categoryName(c.category) }),
      el('td', { 'data-status': c.status, text: statusName(c.status) }),
      el('td', { text: c.step_deadline_at ? formatTime(c.step_deadline_at) : t('desk.case.none') }));
    if (c.id === state.selected) tr.setAttribute('aria-current', 'true');
    return tr;
  });
  $('case-rows').replaceChildren(...rows);
  $('list-empty').hidden = state.items.length > 0;
  $('list-more').hidden = !state.next;
}

// ---------- one case

async function openCase(id, { focus = true, quiet = false } = {}) {
  const seq = ++state.caseSeq;
  state.selected = id;
  for (const tr of $('case-rows').querySelectorAll('tr')) {
    const on = tr.dataset.caseId === id;
    tr.classList.toggle('is-selected', on);
    if (on) tr.setAttribute('aria-current', 'true');
    else tr.removeAttribute('aria-current');
  }
  if (!quiet) say(t('desk.caseLoading'));
  const res = await staffFetch('GET', `/cases/${encodeURIComponent(id)}`);
  if (seq !== state.caseSeq) return;
  if (!res.ok) {
    say(t('desk.loadFailed', { problem: problemText(res.problem) }), 'error');
    return;
  }
  state.detail = res.data;
  history.replaceState(null, '', `#${encodeURIComponent(id)}`);
  closeForm();
  renderCase();
  $('case-panel').hidden = false;
  if (!quiet) say('');
  if (focus) $('case-title').focus();
}

function renderCase() {
  const d = state.detail;
  if (!d) return;
  const c = d.case;
  $('case-title').textContent = t('desk.case.title', { code: c.tracking_code, category: categoryName(c.category) });
  const badge = $('case-status');
  badge.dataset.status = c.status;
  badge.textContent = statusName(c.status);
  badge.className = `badge ${['closed', 'evaluated', 'verified'].includes(c.status) ? 'badge-ok' : c.status === 'rework' || c.status === 'returned' ? 'badge-warn' : 'badge-info'}`;
  renderDeadline();
  $('case-category').textContent = categoryName(c.category);
  $('case-description').textContent = c.description || '';
  $('case-address').textContent = c.address || t('desk.case.none');
  $('case-grid').textContent = c.grid_code;
  $('case-department').textContent = c.department ? departmentName(c.department) : t('desk.case.none');
  $('case-helpers-row').hidden = !(c.helpers && c.helpers.length);
  $('case-helpers').textContent = (c.helpers || []).join('、');
  $('case-received').textContent = formatTime(c.created_at);
  renderMoves();
  renderTrail();
}

function renderDeadline() {
  const c = state.detail?.case;
  if (!c) return;
  const box = $('case-deadline');
  const light = c.step_deadline_at ? c.light : null;
  box.dataset.light = LIGHTS.includes(light) ? light : 'none';
  $('deadline-light').textContent = lightName(light);
  if (!c.step_deadline_at) {
    $('deadline-text').textContent = t('desk.deadline.none');
    return;
  }
  const stepKey = ['sign_for', 'handle', 'verify'].includes(c.step) ? c.step : 'other';
  const left = Date.parse(c.step_deadline_at) - Date.now();
  const when = t('desk.deadline.at', { step: t(`desk.step.${stepKey}`), at: formatTime(c.step_deadline_at) });
  const rest = left >= 0 ? t('desk.deadline.left', { time: duration(left) }) : t('desk.deadline.over', { time: duration(left) });
  $('deadline-text').textContent = `${when} · ${rest}`;
}

function renderMoves() {
  const moves = Array.isArray(state.detail?.allowed_moves) ? state.detail.allowed_moves : [];
  const buttons = moves.map((m) => {
    const b = el('button', {
      type: 'button', 'data-move': m, text: moveName(m),
      class: `btn ${PRIMARY.includes(m) ? 'btn-primary' : 'btn-secondary'}`,
      'aria-expanded': String(state.move === m), 'aria-controls': 'move-form',
    });
    b.addEventListener('click', () => openForm(m));
    return b;
  });
  $('move-buttons').replaceChildren(...buttons);
  $('moves-none').hidden = moves.length > 0;
}

/**
 * Who made a move: the role in words, and a staff member by the display name the case answer
 * gives (`actors`), else the id the trail records (a department's code, a service token).
 */
function actorText(e) {
  const key = `desk.actor.${e.actor_role}`;
  const role = t(key) === key ? e.actor_role : t(key);
  if (!e.actor || e.actor === e.actor_role) return role;
  const actors = state.detail?.actors && typeof state.detail.actors === 'object' ? state.detail.actors : {};
  return t('desk.actor.named', { role, name: actors[e.actor] || departmentName(e.actor) });
}

function eventName(type) {
  for (const key of [`desk.move.${type}`, `desk.event.${type}`]) {
    if (t(key) !== key) return t(key);
  }
  return type;
}

function renderTrail() {
  for (const url of state.objectUrls) URL.revokeObjectURL(url);
  state.objectUrls = [];
  const events = Array.isArray(state.detail?.events) ? state.detail.events : [];
  const items = events.map((e, i) => {
    const details = e.details && typeof e.details === 'object' ? e.details : {};
    const li = el('li', { class: `tl-item${i === events.length - 1 ? ' tl-current' : ''}` },
      el('time', { dateTime: e.at, text: formatTime(e.at) }),
      el('p', { class: 'tl-what', text: `${eventName(e.type)} → ${statusName(e.status)}` }),
      el('p', { class: 'tl-meta', text: actorText(e) }));
    const words = [details.reason, details.note].filter((w) => typeof w === 'string' && w.trim());
    if (typeof details.hours === 'number') words.push(`+${details.hours} h`);
    if (words.length) li.append(el('p', { class: 'tl-note', text: words.join(' · ') }));
    if (Array.isArray(details.evidence) && details.evidence.length) li.append(evidenceList(details.evidence));
    return li;
  });
  $('case-trail').replaceChildren(...items.reverse());
}

/** The photos of an event. Their route needs the Bearer token, so they are fetched, not linked. */
function evidenceList(items) {
  const list = el('ul', { class: 'photos evidence-list' });
  for (const item of items) {
    const caption = typeof item.caption === 'string' ? item.caption : '';
    if (typeof item.href === 'string' && item.href.startsWith('/api/')) {
      const img = el('img', { alt: t('desk.trail.photoAlt', { caption: caption || t('desk.trail.photo') }), width: 160, height: 120 });
      const li = el('li', {}, el('figure', { class: 'photo-figure' }, img, caption ? el('figcaption', { text: caption }) : null));
      list.append(li);
      loadEvidence(item.href, img, li);
    } else if (typeof item.url === 'string' && /^https?:\/\//i.test(item.url)) {
      list.append(el('li', {}, el('a', { href: item.url, rel: 'noopener noreferrer', target: '_blank', text: caption || t('desk.trail.link') })));
    }
  }
  return list;
}

async function loadEvidence(href, img, li) {
  const seq = state.caseSeq;
  try {
    const res = await fetch(href, { headers: { Authorization: `Bearer ${session()?.token}` } });
    if (!res.ok) throw new Error(String(res.status));
    const blob = await res.blob();
    if (seq !== state.caseSeq) return;
    const url = URL.createObjectURL(blob);
    state.objectUrls.push(url);
    img.src = url;
    // The full-size photo opens on its own; the blob: URL lives as long as the case is open.
    const link = el('a', { href: url, target: '_blank' });
    img.replaceWith(link);
    link.append(img);
  } catch {
    li.classList.add('is-broken');
  }
}

// ---------- the move form

function openForm(move, { focus = true } = {}) {
  state.move = move;
  const need = NEEDS[move];
  $('move-form-title').textContent = moveName(move);
  const explainKey = `desk.explain.${move}`;
  $('move-explain').textContent = t(explainKey) === explainKey ? t('desk.explain.other') : t(explainKey);
  $('move-note-label').textContent = need === 'reason' ? t('desk.form.reason') : need === 'note' ? t('desk.form.note') : t('desk.form.noteOptional');
  const note = $('move-note');
  note.required = Boolean(need);
  note.setAttribute('aria-required', String(Boolean(need)));
  $('hours-field').hidden = move !== 'request_extension';
  $('photos-field').hidden = !PHOTO_MOVES.includes(move);
  $('move-confirm').textContent = t('desk.form.confirm', { move: moveName(move) });
  clearErrors();
  $('move-form').hidden = false;
  for (const b of $('move-buttons').querySelectorAll('button')) b.setAttribute('aria-expanded', String(b.dataset.move === move));
  if (focus) $('move-form-title').focus();
}

function closeForm() {
  state.move = null;
  $('move-form').hidden = true;
  $('move-form').reset();
  clearPhotos();
  clearErrors();
  for (const b of $('move-buttons').querySelectorAll('button')) b.setAttribute('aria-expanded', 'false');
}

function fieldError(id, text) {
  const input = $(id);
  const msg = $(`${id}-error`);
  msg.textContent = text;
  msg.hidden = !text;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function clearErrors() {
  for (const id of ['move-note', 'move-hours', 'move-photos']) fieldError(id, '');
}

function clearPhotos() {
  for (const p of state.photos) URL.revokeObjectURL(p.url);
  state.photos = [];
  renderPhotos();
}

function renderPhotos() {
  const items = state.photos.map((p, i) => {
    const n = i + 1;
    const caption = el('input', { type: 'text', id: `photo-caption-${n}`, maxLength: 200, value: p.caption });
    caption.addEventListener('input', () => { p.caption = caption.value; });
    const remove = el('button', { type: 'button', class: 'btn btn-secondary btn-small', text: t('desk.form.removeShort'), 'aria-label': t('desk.form.remove', { n }) });
    remove.addEventListener('click', () => {
      URL.revokeObjectURL(p.url);
      state.photos.splice(i, 1);
      renderPhotos();
      $('move-photos').focus();
    });
    return el('li', { class: 'photo-item' },
      el('img', { src: p.url, alt: t('desk.form.photoAlt', { n }), width: p.width, height: p.height }),
      el('div', { class: 'photo-fields' },
        el('label', { for: `photo-caption-${n}`, text: t('desk.form.caption', { n }) }), caption, remove));
  });
  $('photo-list').replaceChildren(...items);
}

async function addPhotos(files) {
  fieldError('move-photos', '');
  const room = MAX_PHOTOS - state.photos.length;
  const chosen = Array.from(files);
  const problems = [];
  if (chosen.length > room) problems.push(t('desk.form.tooMany'));
  say(t('desk.form.preparing'));
  for (const file of chosen.slice(0, Math.max(0, room))) {
    try {
      state.photos.push({ ...(await downscale(file)), caption: '' });
    } catch {
      problems.push(t('desk.form.notImage', { name: file.name }));
    }
  }
  renderPhotos();
  say('');
  if (problems.length) fieldError('move-photos', problems.join(' '));
}

async function submitMove(event) {
  event.preventDefault();
  const move = state.move;
  const c = state.detail?.case;
  if (!move || !c) return;
  clearErrors();
  const need = NEEDS[move];
  const text = $('move-note').value.trim();
  const body = { move };
  let invalid = null;
  if (need && !text) {
    fieldError('move-note', t('desk.form.required'));
    invalid = invalid || 'move-note';
  }
  if (text) body[need === 'reason' ? 'reason' : 'note'] = text;
  if (move === 'request_extension') {
    const hours = Number($('move-hours').value);
    if (!$('move-hours').value || !Number.isFinite(hours) || hours <= 0 || hours > 720) {
      fieldError('move-hours', t('desk.form.hoursRange'));
      invalid = invalid || 'move-hours';
    } else {
      body.hours = hours;
    }
  }
  if (invalid) {
    $(invalid).focus();
    return;
  }
  if (PHOTO_MOVES.includes(move) && state.photos.length) {
    body.evidence = state.photos.map((p) => (p.caption.trim() ? { data: p.data, caption: p.caption.trim() } : { data: p.data }));
  }
  const confirm = $('move-confirm');
  confirm.disabled = true;
  confirm.setAttribute('aria-busy', 'true');
  say(t('desk.sending'));
  const res = await staffFetch('POST', `/cases/${encodeURIComponent(c.id)}/moves`, body);
  confirm.disabled = false;
  confirm.removeAttribute('aria-busy');
  if (!res.ok) {
    moveFailed(move, res);
    return;
  }
  const after = res.data?.case || {};
  say(t('desk.done', { move: moveName(move), code: after.tracking_code || c.tracking_code, status: statusName(after.status) }), 'ok');
  closeForm();
  await Promise.all([loadList(), openCase(c.id, { focus: false, quiet: true })]);
  say(t('desk.done', { move: moveName(move), code: after.tracking_code || c.tracking_code, status: statusName(after.status) }), 'ok');
  $('case-title').focus();
}

function moveFailed(move, res) {
  const p = res.problem;
  if (res.status === 409 && Array.isArray(p.allowed_moves)) {
    say(t('desk.notAllowed', { moves: p.allowed_moves.map(moveName).join('、') || t('desk.case.none') }), 'error');
    openCase(state.selected, { focus: false, quiet: true });
    return;
  }
  let placed = false;
  for (const e of p.errors || []) {
    const id = e.field === 'reason' || e.field === 'note' ? 'move-note'
      : e.field === 'hours' ? 'move-hours'
        : e.field.startsWith('evidence') ? 'move-photos' : null;
    if (id) {
      fieldError(id, e.message);
      if (!placed) $(id).focus();
      placed = true;
    }
  }
  say(t('desk.moveFailed', { move: moveName(move), problem: problemText(p) }), 'error');
}

// ---------- start

async function loadCategories() {
  const res = await request('GET', '/categories');
  if (res.ok && Array.isArray(res.data)) {
    for (const c of res.data) state.categories.set(c.code, c);
  }
}

// Department names by code, from GET /api/departments; a code stands in until they arrive.
const departmentNames = new Map();

function departmentName(code) {
  return departmentNames.get(code) || code;
}

async function loadDepartments() {
  const res = await staffFetch('GET', '/departments');
  if (!res.ok || !Array.isArray(res.data?.items)) return;
  for (const d of res.data.items) departmentNames.set(d.code, d.name);
}

function intro() {
  const p = state.principal;
  $('desk-intro').textContent = p.role === 'grid_worker'
    ? t('desk.intro.grid_worker')
    : t('desk.intro.department', { dept: p.department ? departmentName(p.department) : p.name });
}

async function main() {
  const principal = await requireStaff(['department', 'grid_worker']);
  state.principal = principal;
  staffBar(principal);
  initI18n();
  fillFilters();
  intro();

  $('desk-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    loadList();
  });
  for (const id of ['filter-status', 'filter-light']) $(id).addEventListener('change', () => loadList());
  $('list-more').addEventListener('click', () => loadList({ more: true }));
  $('case-rows').addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-case-id]');
    if (tr) openCase(tr.dataset.caseId);
  });
  $('move-form').addEventListener('submit', submitMove);
  $('move-cancel').addEventListener('click', () => {
    const move = state.move;
    closeForm();
    $('move-buttons').querySelector(`[data-move="${move}"]`)?.focus();
  });
  $('move-photos').addEventListener('change', async (e) => {
    const input = e.target;
    await addPhotos(input.files || []);
    input.value = ''; // the same photo may be chosen again after a removal
  });
  onLangChange(() => {
    fillFilters();
    intro();
    renderList();
    if (state.detail) {
      const move = state.move;
      renderCase();
      if (move) openForm(move, { focus: false });
      renderPhotos();
    }
  });
  // The deadline's "time left" moves on while the page is open.
  setInterval(renderDeadline, 60_000);

  await Promise.all([loadCategories(), loadDepartments()]);
  intro();
  await loadList();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted) openCase(wanted, { focus: false });
}

main();
