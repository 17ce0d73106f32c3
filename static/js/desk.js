// The department desk (desk.html), for department staff and grid workers: their own cases
// (the server scopes GET /api/cases to them), each case's deadline and light, the moves the
// server allows the caller now, and the result with photos. Photos are downscaled and
// re-encoded as JPEG in the browser, which also drops their EXIF (and so any GPS position);
// the server strips metadata again whatever arrives.

import './i18n-desk.js';
import { t, tOr, initI18n, onLangChange } from './i18n.js';
import { $, el, fillSelect, showFieldError, statusLine } from './dom.js';
import { requireStaff, staffFetch, problemText, staffBar } from './staff.js';
import { formatTime, timeEl } from './format.js';
import { downscale } from './photos.js';
import {
  loadDirectory, categoryName, departmentName, moveRule, lightBadge as staffLightBadge, duration,
  evidencePhoto, forgetEvidencePhotos,
} from './staff-case.js';

const STATUSES = [
  'dispatched', 'signed_for', 'in_progress', 'extension_requested', 'handled', 'rework',
  'returned', 'verified', 'closed', 'collected', 'accepted', 'rejected', 'merged', 'evaluated',
];
const LIGHTS = ['red', 'yellow', 'green'];
/** Presentation only: the move a desk most often makes from a status, shown as the primary button. */
const PRIMARY = ['sign_for', 'handle', 'verify_pass', 'start'];
const MAX_PHOTOS = 4; // the server takes four photos with a move

const state = {
  principal: null,
  items: [],
  next: null,
  selected: null, // the case id open in the panel
  detail: null, // GET /api/cases/{id}
  move: null, // the move whose form is open
  photos: [], // [{data, url, width, height, caption}] prepared for the open form
  listSeq: 0,
  caseSeq: 0,
};

const { say } = statusLine('desk-status');

function statusName(code) {
  return code ? t(`desk.status.${code}`) : '';
}

/** The badge's tone: done, sent back, or on its way (a desk's view of a status). */
function statusTone(status) {
  if (['closed', 'evaluated', 'verified'].includes(status)) return 'ok';
  if (status === 'rework' || status === 'returned') return 'warn';
  return 'info';
}

const moveName = (code) => tOr(`desk.move.${code}`, code);

function lightName(light) {
  return t(LIGHTS.includes(light) ? `desk.light.${light}` : 'desk.light.none');
}

function lightBadge(light) {
  return staffLightBadge(LIGHTS.includes(light) ? light : 'none', lightName(light));
}

/**
 * What the open form's move needs, from the server's answer: the note box as a required reason
 * or note (or an optional note), the hours of an extension, photos.
 */
function formRule(move) {
  const { requires, evidence } = moveRule(state.detail, move);
  const need = requires.includes('reason') ? 'reason' : requires.includes('note') ? 'note' : null;
  return { need, hours: requires.includes('hours'), evidence };
}

// ---------- the list

function fillFilters() {
  fillSelect($('filter-status'), [['', t('desk.filter.allStatus')], ...STATUSES.map((s) => [s, statusName(s)])]);
  fillSelect($('filter-light'), [['', t('desk.filter.allLight')], ...LIGHTS.map((l) => [l, lightName(l)])]);
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
  if (state.selected !== id) forgetEvidencePhotos();
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
  badge.className = `badge badge-${statusTone(c.status)}`;
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
  const role = tOr(`desk.actor.${e.actor_role}`, e.actor_role);
  if (!e.actor || e.actor === e.actor_role) return role;
  const actors = state.detail?.actors && typeof state.detail.actors === 'object' ? state.detail.actors : {};
  return t('desk.actor.named', { role, name: actors[e.actor] || departmentName(e.actor) });
}

function eventName(type) {
  return tOr(`desk.move.${type}`, tOr(`desk.event.${type}`, type));
}

function renderTrail() {
  const events = Array.isArray(state.detail?.events) ? state.detail.events : [];
  const items = events.map((e, i) => {
    const details = e.details && typeof e.details === 'object' ? e.details : {};
    const li = el('li', { class: `tl-item${i === events.length - 1 ? ' tl-current' : ''}` },
      timeEl(e.at),
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
      evidencePhoto(item.href).then((url) => {
        if (!url) {
          li.classList.add('is-broken');
          return;
        }
        img.src = url;
        // The full-size photo opens on its own; the blob: URL lives as long as the case is open.
        const link = el('a', { href: url, target: '_blank' });
        img.replaceWith(link);
        link.append(img);
      });
    } else if (typeof item.url === 'string' && /^https?:\/\//i.test(item.url)) {
      list.append(el('li', {}, el('a', { href: item.url, rel: 'noopener noreferrer', target: '_blank', text: caption || t('desk.trail.link') })));
    }
  }
  return list;
}

// ---------- the move form

function openForm(move, { focus = true } = {}) {
  state.move = move;
  const { need, hours, evidence } = formRule(move);
  $('move-form-title').textContent = moveName(move);
  $('move-explain').textContent = tOr(`desk.explain.${move}`, t('desk.explain.other'));
  $('move-note-label').textContent = need === 'reason' ? t('desk.form.reason') : need === 'note' ? t('desk.form.note') : t('desk.form.noteOptional');
  const note = $('move-note');
  note.required = Boolean(need);
  note.setAttribute('aria-required', String(Boolean(need)));
  $('hours-field').hidden = !hours;
  $('photos-field').hidden = !evidence;
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

function clearErrors() {
  for (const id of ['move-note', 'move-hours', 'move-photos']) showFieldError(id, '');
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
  showFieldError('move-photos', '');
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
  if (problems.length) showFieldError('move-photos', problems.join(' '));
}

async function submitMove(event) {
  event.preventDefault();
  const move = state.move;
  const c = state.detail?.case;
  if (!move || !c) return;
  clearErrors();
  const { need, hours, evidence } = formRule(move);
  const text = $('move-note').value.trim();
  const body = { move };
  let invalid = null;
  if (need && !text) {
    showFieldError('move-note', t('desk.form.required'));
    invalid = invalid || 'move-note';
  }
  if (text) body[need === 'reason' ? 'reason' : 'note'] = text;
  if (hours) {
    // The box's own max (desk.html) is the server's limit, 720 hours.
    const input = $('move-hours');
    const value = Number(input.value);
    if (!input.value || !Number.isFinite(value) || value <= 0 || value > Number(input.max)) {
      showFieldError('move-hours', t('desk.form.hoursRange'));
      invalid = invalid || 'move-hours';
    } else {
      body.hours = value;
    }
  }
  if (invalid) {
    $(invalid).focus();
    return;
  }
  if (evidence && state.photos.length) {
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
      showFieldError(id, e.message);
      if (!placed) $(id).focus();
      placed = true;
    }
  }
  say(t('desk.moveFailed', { move: moveName(move), problem: problemText(p) }), 'error');
}

// ---------- start

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

  await loadDirectory(); // without it, codes stand in for names
  intro();
  await loadList();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted) openCase(wanted, { focus: false });
}

main();
