// The operator console (console.html): the incoming queue with its filters, the overdue board,
// and one case with its moves (accept, reject, merge, dispatch with the routing suggestion, …)
// and its whole audit trail. Hash routing: #queue?filters, #overdue, #case/ID.
// Everything shown is kept in `state`, so a language switch re-renders without asking the
// server again; only a move, a reveal or a refresh does.

import './i18n-console.js';
import { t, has, initI18n, onLangChange, locale } from './i18n.js';
import { requireStaff, staffFetch, problemText, staffBar, session } from './staff.js';
import { localName } from './format.js';

const ROLES = ['city_operator', 'district_operator', 'street_operator', 'admin'];
const STATUSES = ['collected', 'accepted', 'rejected', 'merged', 'dispatched', 'signed_for', 'returned',
  'in_progress', 'extension_requested', 'handled', 'verified', 'rework', 'closed', 'evaluated'];
const LEVELS = ['city', 'district', 'street']; // the board shows the highest level first
const LIGHTS = ['red', 'yellow', 'green'];
const TIME_ZONE = 'Asia/Shanghai';
const OVERDUE_CAP = 1000; // the board reads at most this many cases per light

// Badge colours per status, as on the citizen's tracking page.
const TONE = {
  collected: 'neutral', accepted: 'neutral',
  dispatched: 'info', signed_for: 'info', in_progress: 'info', extension_requested: 'warn',
  returned: 'warn', rework: 'warn',
  handled: 'ok', verified: 'ok', closed: 'ok', evaluated: 'ok',
  rejected: 'stop', merged: 'stop',
};

// What a move needs besides its name (mirrors the table of shared/src/case.rs). Moves absent
// here need nothing and are made on the button press; request_extension (hours) is a
// department's move and never offered here.
const NEEDS = {
  reject: 'reason', refuse_extension: 'reason', verify_fail: 'reason', return: 'reason',
  handle: 'note', self_handle: 'note', merge: 'parent',
};
const BUTTON_ORDER = ['accept', 'merge', 'reject', 'approve_extension', 'refuse_extension', 'verify_pass', 'verify_fail', 'close'];

const $ = (id) => document.getElementById(id);

const state = {
  principal: null,
  categories: new Map(),   // code → category
  departments: new Map(),  // code → {code, name, area_code, has_webhook}: GET /api/departments
  gridNames: new Map(),    // grid code → chain text
  geo: new Map(),          // grid code → GeoJSON (promise)
  route: null,
  queue: { key: null, items: [], next: null, params: null, seq: 0 },
  overdue: { red: [], yellow: [], truncated: false, loaded: false, seq: 0 },
  current: null,           // {id, data, seq} of the open case
  panel: null,             // null | {kind: 'move', move} | {kind: 'dispatch', routing, problem}
  merge: { other: null },  // the case typed in as "another case" for a merge
  photos: new Map(),       // evidence href → blob: URL (revoked when another case opens)
  lastQueueHash: '#queue',
};

// ---------- small helpers

/** An element with attributes and children; `text` sets textContent, `data` the dataset. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === 'text') node.textContent = value;
    else if (key === 'className') node.className = value;
    else if (key === 'data') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * The one status line: results and errors, announced politely. `message` is a function
 * returning the text, so a language switch can write it again in the other language.
 */
let lastMessage = null;
function say(message, tone = '') {
  lastMessage = { message, tone };
  writeStatus();
}
function writeStatus() {
  const line = $('console-status');
  line.textContent = lastMessage ? lastMessage.message() : '';
  line.classList.toggle('is-error', lastMessage?.tone === 'error');
  line.classList.toggle('is-ok', lastMessage?.tone === 'ok');
}

function sayProblem(res) {
  if (res.status === 403) say(() => `${t('con.err.forbidden')} ${problemText(res.problem)}`, 'error');
  else say(() => problemText(res.problem) || `HTTP ${res.status}`, 'error');
}

const formatters = new Map();
function formatter(kind) {
  const key = `${locale()}|${kind}`;
  if (!formatters.has(key)) {
    const options = kind === 'short'
      ? { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TIME_ZONE }
      : { dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23', timeZone: TIME_ZONE };
    formatters.set(key, new Intl.DateTimeFormat(locale(), options));
  }
  return formatters.get(key);
}

/** A <time> in the city's time zone, in the reader's language. */
function timeEl(iso, kind = 'long') {
  if (!iso) return document.createTextNode('—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return document.createTextNode(String(iso));
  return el('time', { datetime: iso, text: formatter(kind).format(date) });
}

function duration(ms) {
  const minutes = Math.max(1, Math.round(Math.abs(ms) / 60000));
  if (minutes < 60) return t('con.dur.min', { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return t('con.dur.hour', { h: hours, m: minutes % 60 });
  return t('con.dur.day', { d: Math.floor(hours / 24), h: hours % 24 });
}

const keyed = (prefix, value) => (value && has(`${prefix}.${value}`) ? t(`${prefix}.${value}`) : String(value ?? ''));
const statusName = (s) => keyed('con.status', s);
const levelName = (l) => keyed('con.level', l);
const stepName = (s) => keyed('con.step', s);
const moveName = (m) => keyed('con.move', m);
const categoryName = (code) => localName(state.categories.get(code)) || code || '';

/** A department's name from the directory (GET /api/departments), else its code. */
function deptName(code) {
  if (!code) return '';
  return state.departments.get(code)?.name || code;
}

/**
 * Who made a move, as the trail shows them: a staff account by its display name (the case
 * answer's `actors`), a department by its name, anyone else by the id the trail records.
 */
function actorName(e) {
  if (!e.actor || e.actor === e.actor_role) return '';
  const name = state.current?.data?.actors?.[e.actor];
  if (name) return name;
  return e.actor_role === 'department' ? deptName(e.actor) : e.actor;
}

function statusBadge(status, attrs = {}) {
  return el('span', { className: `badge badge-small badge-${TONE[status] || 'neutral'}`, data: { status }, text: statusName(status), ...attrs });
}

/** The light as a badge with a shape and a word, never the colour alone. */
function lightBadge(light) {
  if (!light) return document.createTextNode('—');
  return el('span', { className: `light light-${light}`, data: { light } },
    el('span', { className: 'light-dot', 'aria-hidden': 'true' }), t(`con.light.${light}`));
}

function caseLink(c) {
  return el('a', { href: `#case/${encodeURIComponent(c.id)}`, className: 'mono', text: c.tracking_code || c.id });
}

function truncate(text, n) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** Metres between two WGS-84 points (haversine). */
function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return Math.round(2 * 6371008.8 * Math.asin(Math.sqrt(h)));
}

/** Fills a <select> with [value, label] pairs, keeping its value when it is still offered. */
function fillSelect(select, pairs, keep = select.value) {
  select.replaceChildren(...pairs.map(([value, label]) => el('option', { value, text: label })));
  if (pairs.some(([value]) => value === keep)) select.value = keep;
}

// ---------- start

async function start() {
  state.principal = await requireStaff(ROLES);
  staffBar(state.principal);
  initI18n();
  wire();
  await loadReferenceData();
  renderFilterOptions();
  window.addEventListener('hashchange', route);
  // Going to the very URL already shown (a link to the open case, a bookmark) changes no hash,
  // so no hashchange fires, only popstate: read the view again, as a reload would.
  window.addEventListener('popstate', () => {
    if (location.href === state.routedHref) route();
  });
  onLangChange(() => {
    formatters.clear();
    staffBar(state.principal);
    renderFilterOptions();
    renderAll();
    writeStatus();
  });
  route();
}

/** Categories (public) and the department directory (every department with its name). */
async function loadReferenceData() {
  const [cats, depts] = await Promise.all([staffFetch('GET', '/categories'), staffFetch('GET', '/departments')]);
  if (cats.ok && Array.isArray(cats.data)) {
    for (const c of cats.data) state.categories.set(c.code, c);
  } else if (!cats.ok) {
    sayProblem(cats);
  }
  if (depts.ok && Array.isArray(depts.data?.items)) {
    for (const d of depts.data.items) state.departments.set(d.code, d);
  } else if (!depts.ok) {
    sayProblem(depts);
  }
}

function wire() {
  $('queue-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilters();
  });
  $('filter-reset').addEventListener('click', () => {
    $('f-area').value = '';
    setAreaError(null);
    if (location.hash === '#queue') route();
    else location.hash = 'queue';
  });
  $('queue-refresh').addEventListener('click', () => loadQueue(state.queue.params));
  $('queue-more').addEventListener('click', () => loadQueue(state.queue.params, { more: true }));
  $('overdue-refresh').addEventListener('click', () => loadOverdue());
  // Lights change with the clock: the board reads itself again every minute while it is shown,
  // quietly (a status message every minute would keep interrupting screen-reader users).
  setInterval(() => {
    if (state.route?.view === 'overdue' && !document.hidden) loadOverdue({ quiet: true });
  }, 60_000);

  $('reveal-contact').addEventListener('click', async () => {
    // Only this press asks for the whole contact (an audited look); the button then goes away,
    // so the focus moves to the section's heading.
    $('reveal-contact').disabled = true;
    await loadCase(state.current.id, { reveal: true, focus: false });
    $('reveal-contact').disabled = false;
    if ($('reveal-contact').hidden) $('contact-heading').focus();
  });
  $('case-actions').addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button || button.disabled) return;
    if (button.id === 'dispatch-open') openDispatch();
    else if (button.dataset.move) onMoveButton(button.dataset.move);
  });

  $('move-panel').addEventListener('submit', (event) => {
    event.preventDefault();
    submitMove();
  });
  $('move-cancel').addEventListener('click', () => closePanel({ refocus: true }));
  $('merge-choices').addEventListener('change', renderMergeCompare);
  $('merge-choice-other').addEventListener('change', renderMergeCompare);
  $('merge-other').addEventListener('focus', () => {
    if ($('merge-choice-other').checked) return;
    $('merge-choice-other').checked = true;
    renderMergeCompare();
  });
  $('merge-other').addEventListener('input', () => {
    // A comparison stays only while it matches the id typed.
    if (state.merge.other && state.merge.other.id !== $('merge-other').value.trim()) {
      state.merge.other = null;
      renderMergeCompare();
    }
  });
  $('merge-other').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      loadMergeOther();
    }
  });
  $('merge-other-load').addEventListener('click', loadMergeOther);

  $('dispatch-panel').addEventListener('submit', (event) => {
    event.preventDefault();
    submitDispatch();
  });
  $('dispatch-cancel').addEventListener('click', () => closePanel({ refocus: true }));
  $('dispatch-department').addEventListener('change', renderDispatchHint);

  // Escape closes an open panel, as it would a dialog.
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.panel) closePanel({ refocus: true });
  });
}

// ---------- routing between views

function parseHash() {
  const hash = location.hash.replace(/^#/, '');
  if (hash.startsWith('case/')) return { view: 'case', id: decodeURIComponent(hash.slice(5)) };
  if (hash === 'overdue') return { view: 'overdue' };
  const query = hash.startsWith('queue?') ? hash.slice(6) : null;
  // A bare #queue (or no hash) is the incoming queue: cases waiting for acceptance.
  const params = query === null ? new URLSearchParams('status=collected') : new URLSearchParams(query);
  return { view: 'queue', params };
}

function route() {
  const previous = state.route?.view;
  const r = parseHash();
  state.route = r;
  state.routedHref = location.href;
  for (const view of ['queue', 'overdue', 'case']) $(`view-${view}`).hidden = view !== r.view;
  for (const view of ['queue', 'overdue']) {
    if (r.view === view) $(`tab-${view}`).setAttribute('aria-current', 'page');
    else $(`tab-${view}`).removeAttribute('aria-current');
  }
  if (r.view !== 'case') {
    closePanel();
    document.title = t('con.title');
  }
  // A new view takes the focus to its heading, so keyboard and screen-reader users start there
  // (the link they used may just have been hidden). The case view does so once it is loaded.
  if (previous && previous !== r.view && r.view !== 'case') $(`${r.view}-heading`).focus();
  if (r.view === 'queue') {
    state.lastQueueHash = location.hash || '#queue';
    setFilterInputs(r.params);
    loadQueue(r.params);
  } else if (r.view === 'overdue') {
    state.lastQueueHash = '#overdue';
    loadOverdue();
  } else {
    $('case-back').href = state.lastQueueHash;
    renderBackLink();
    loadCase(r.id);
  }
}

function renderBackLink() {
  $('case-back').textContent = state.lastQueueHash === '#overdue' ? `← ${t('con.tab.overdue')}` : t('con.case.back');
}

function renderAll() {
  const r = state.route;
  if (!r) return;
  if (r.view === 'queue') renderQueue();
  else if (r.view === 'overdue') renderOverdue();
  else if (state.current?.data) {
    renderBackLink();
    renderCase();
    renderPanel();
  }
}

// ---------- the queue

function renderFilterOptions() {
  const any = ['', t('con.any')];
  fillSelect($('f-status'), [any, ...STATUSES.map((s) => [s, statusName(s)])]);
  fillSelect($('f-level'), [any, ...LEVELS.map((l) => [l, levelName(l)])]);
  fillSelect($('f-light'), [any, ...LIGHTS.map((l) => [l, t(`con.light.${l}`)])]);
  const cats = [...state.categories.values()].sort((a, b) => a.code.localeCompare(b.code));
  fillSelect($('f-category'), [any, ...cats.map((c) => [c.code, localName(c)])]);
  const depts = [...state.departments.keys()].map((d) => [d, deptName(d)]).sort((a, b) => a[1].localeCompare(b[1], locale()));
  fillSelect($('f-department'), [any, ...depts]);
}

function setFilterInputs(params) {
  for (const name of ['status', 'level', 'light', 'category', 'department']) {
    const select = $(`f-${name}`);
    const value = params.get(name) || '';
    // A filter value not in the list (an unknown department in a shared link) is still shown.
    if (value && ![...select.options].some((o) => o.value === value)) select.append(el('option', { value, text: value }));
    select.value = value;
  }
  $('f-area').value = params.get('area') || '';
}

function setAreaError(key) {
  const input = $('f-area');
  const msg = $('f-area-error');
  msg.hidden = !key;
  msg.textContent = key ? t(key) : '';
  if (key) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

function applyFilters() {
  const area = $('f-area').value.trim();
  if (area && !/^\d{6}(\d{3}){0,3}$/.test(area)) {
    setAreaError('con.filter.areaInvalid');
    $('f-area').focus();
    return;
  }
  setAreaError(null);
  const params = new URLSearchParams();
  // status is always written, empty meaning "every status", so the default (collected) does not come back.
  params.set('status', $('f-status').value);
  for (const name of ['level', 'light', 'category', 'department']) {
    if ($(`f-${name}`).value) params.set(name, $(`f-${name}`).value);
  }
  if (area) params.set('area', area);
  const hash = `#queue?${params}`;
  if (location.hash === hash) loadQueue(params);
  else location.hash = hash;
}

async function loadQueue(params, { more = false } = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of params) if (v) q.set(k, v);
  q.set('limit', '50');
  const key = q.toString();
  if (more && state.queue.next) q.set('after', state.queue.next);
  const seq = ++state.queue.seq;
  $('queue-more').disabled = true;
  $('queue-table').setAttribute('aria-busy', 'true');
  say(() => t('con.loading'));
  const res = await staffFetch('GET', `/cases?${q}`);
  if (seq !== state.queue.seq) return; // a newer request took over
  $('queue-table').removeAttribute('aria-busy');
  $('queue-more').disabled = false;
  if (!res.ok) {
    if (res.status === 403) say(() => t('con.err.noCases'), 'error');
    else sayProblem(res);
    state.queue = { ...state.queue, key, params, items: [], next: null };
    renderQueue();
    return;
  }
  const items = res.data.items || [];
  state.queue = { ...state.queue, key, params, items: more ? [...state.queue.items, ...items] : items, next: res.data.next || null };
  renderQueue();
  say(() => t('con.queue.loaded', { n: state.queue.items.length }));
  if (more) $('queue-rows').rows[state.queue.items.length - items.length]?.querySelector('a')?.focus();
}

function renderQueue() {
  const { items, next } = state.queue;
  $('queue-rows').replaceChildren(...items.map(queueRow));
  $('queue-empty').hidden = items.length > 0;
  $('queue-table-wrap').hidden = items.length === 0;
  $('queue-more').hidden = !next;
  $('queue-count').textContent = items.length ? t(next ? 'con.queue.countMore' : 'con.queue.count', { n: items.length }) : '';
}

function queueRow(c) {
  const dup = (c.duplicate_candidates || []).length > 0;
  // Two facts per cell where they belong together, so the table fits a 768 px tablet.
  return el('tr', { data: { caseId: c.id } },
    el('th', { scope: 'row' }, caseLink(c), el('br'), el('span', { className: 'hint-inline nowrap' }, timeEl(c.created_at, 'short'))),
    categoryCell(c),
    el('td', { className: 'cell-description', title: c.description },
      truncate(c.description, 40),
      dup ? el('span', { className: 'tag tag-warn', text: t('con.queue.dup') }) : null),
    el('td', {}, statusBadge(c.status)),
    el('td', {}, lightBadge(c.light)),
    el('td', { className: 'nowrap' }, levelName(c.escalation_level)));
}

function categoryCell(c) {
  return el('td', { className: 'cell-category' }, categoryName(c.category), el('br'),
    el('span', { className: 'mono hint-inline', text: c.grid_code }));
}

// ---------- the overdue board

/** Every case of one light, page by page, up to the cap. */
async function fetchLight(light) {
  const items = [];
  let after = null;
  do {
    const q = new URLSearchParams({ light, limit: '200' });
    if (after) q.set('after', after);
    const res = await staffFetch('GET', `/cases?${q}`);
    if (!res.ok) return { res };
    items.push(...(res.data.items || []));
    after = res.data.next;
  } while (after && items.length < OVERDUE_CAP);
  return { items, truncated: Boolean(after) };
}

async function loadOverdue({ quiet = false } = {}) {
  const seq = ++state.overdue.seq;
  if (!quiet) say(() => t('con.loading'));
  $('overdue-groups').setAttribute('aria-busy', 'true');
  const [red, yellow] = await Promise.all([fetchLight('red'), fetchLight('yellow')]);
  if (seq !== state.overdue.seq) return;
  $('overdue-groups').removeAttribute('aria-busy');
  const failed = red.res || yellow.res;
  if (failed) {
    if (failed.status === 403) say(() => t('con.err.noCases'), 'error');
    else sayProblem(failed);
    state.overdue = { ...state.overdue, red: [], yellow: [], truncated: false, loaded: false };
    renderOverdue();
    return;
  }
  state.overdue = { ...state.overdue, red: red.items, yellow: yellow.items, truncated: red.truncated || yellow.truncated, loaded: true };
  renderOverdue();
  if (!quiet) say(() => t('con.overdue.summary', { red: red.items.length, yellow: yellow.items.length }));
}

function renderOverdue() {
  const { red, yellow, truncated, loaded } = state.overdue;
  $('overdue-summary').textContent = loaded
    ? [t('con.overdue.summary', { red: red.length, yellow: yellow.length }), truncated ? t('con.overdue.truncated', { n: OVERDUE_CAP }) : ''].join(' ')
    : '';
  const all = [...red, ...yellow].sort((a, b) => Date.parse(a.step_deadline_at) - Date.parse(b.step_deadline_at));
  const groups = [];
  for (const level of LEVELS) {
    const cases = all.filter((c) => c.escalation_level === level);
    if (!cases.length) continue;
    const headingId = `overdue-${level}`;
    groups.push(el('section', { className: 'board-group', 'aria-labelledby': headingId },
      el('h3', { id: headingId, text: t('con.overdue.group', { level: levelName(level), n: cases.length }) }),
      el('div', { className: 'table-scroll', tabindex: '0', role: 'region', 'aria-labelledby': headingId },
        el('table', { className: 'data-table' },
          el('caption', { className: 'visually-hidden', text: t('con.overdue.caption', { level: levelName(level) }) }),
          el('thead', {}, el('tr', {},
            ...['con.col.code', 'con.col.categoryGrid', 'con.col.step', 'con.col.deadline', 'con.col.light', 'con.col.department']
              .map((k) => el('th', { scope: 'col', text: t(k) })))),
          el('tbody', {}, ...cases.map(overdueRow))))));
  }
  if (loaded && !groups.length) groups.push(el('p', { className: 'notice', text: t('con.overdue.empty') }));
  $('overdue-groups').replaceChildren(...groups);
}

function overdueRow(c) {
  const left = Date.parse(c.step_deadline_at) - Date.now();
  return el('tr', { data: { caseId: c.id }, className: c.light === 'red' ? 'row-red' : '' },
    el('th', { scope: 'row' }, caseLink(c)),
    categoryCell(c),
    el('td', { className: 'nowrap' }, stepName(c.step)),
    el('td', {}, timeEl(c.step_deadline_at, 'short'), el('br'),
      el('span', { className: 'hint-inline', text: t(left < 0 ? 'con.overdue.late' : 'con.overdue.left', { d: duration(left) }) })),
    el('td', {}, lightBadge(c.light)),
    el('td', {}, deptName(c.department) || '—'));
}

// ---------- one case

async function loadCase(id, { reveal = false, message = null, focus = true } = {}) {
  if (state.current?.id !== id) {
    for (const url of state.photos.values()) URL.revokeObjectURL(url);
    state.photos.clear();
    state.current = { id, data: null, seq: 0 };
    state.merge.other = null;
    closePanel();
    $('case-body').hidden = true;
  }
  const seq = ++state.current.seq;
  if (!message) say(() => t('con.loading'));
  const path = `/cases/${encodeURIComponent(id)}${reveal ? '?reveal=contact' : ''}`;
  const res = await staffFetch('GET', path);
  if (state.current?.id !== id || seq !== state.current.seq) return;
  if (!res.ok) {
    if (res.status === 404) say(() => t('con.case.notFound'), 'error');
    else if (res.status === 403) say(() => t('con.err.noCases'), 'error');
    else sayProblem(res);
    return;
  }
  const c = res.data.case;
  // A masked reload after a reveal keeps the revealed contact on screen: it was already seen.
  if (!reveal && state.current.data?.revealed && state.current.data.case.id === c.id) {
    res.data.revealed = true;
    Object.assign(c, {
      contact_name: state.current.data.case.contact_name,
      contact_phone: state.current.data.case.contact_phone,
      description: state.current.data.case.description,
    });
  }
  state.current.data = res.data;
  await loadGridName(c.grid_code);
  if (state.current?.id !== id || seq !== state.current.seq) return;
  $('case-body').hidden = false;
  renderCase();
  if (message) say(message.text, message.tone);
  else if (reveal) say(() => t('con.contact.revealed'), 'ok');
  else say(() => t('con.case.loaded', { code: c.tracking_code }));
  if (focus) $('case-heading').focus();
}

async function loadGridName(code) {
  if (!code || state.gridNames.has(code)) return;
  const res = await staffFetch('GET', `/grids/${encodeURIComponent(code)}`);
  if (res.ok && res.data) {
    const chain = [...(res.data.chain || []), res.data].map((a) => a.name || a.code).join(' › ');
    state.gridNames.set(code, chain);
  }
}

function renderCase() {
  const { case: c, events, allowed_moves: allowed, probable_duplicates: dups, mediation, revealed } = state.current.data;
  $('case-heading').textContent = t('con.case.heading', { code: c.tracking_code });
  document.title = `${c.tracking_code} · ${t('con.title')}`;

  const status = $('case-status');
  status.className = `badge badge-${TONE[c.status] || 'neutral'}`;
  status.dataset.status = c.status;
  status.textContent = statusName(c.status);
  $('case-light').replaceChildren(c.light ? lightBadge(c.light) : '');

  const facts = [
    ['con.fact.id', el('span', { className: 'mono', text: c.id })],
    ['con.fact.category', categoryName(c.category)],
    ['con.fact.description', el('span', { className: 'pre-wrap', text: c.description })],
    c.address ? ['con.fact.address', c.address] : null,
    ['con.fact.grid', [state.gridNames.get(c.grid_code) || '', ' ', el('span', { className: 'mono small', text: c.grid_code })]],
    ['con.fact.point', el('span', { className: 'mono small', text: `${Number(c.lat).toFixed(5)}, ${Number(c.lng).toFixed(5)}` })],
    ['con.fact.channel', keyed('channel', c.channel)],
    c.asset_id ? ['con.fact.asset', el('span', { className: 'mono', text: c.asset_id })] : null,
    ['con.fact.priority', t('con.priority', { n: c.priority })],
    c.department ? ['con.fact.department', deptName(c.department)] : null,
    (c.helpers || []).length ? ['con.fact.helpers', c.helpers.map(deptName).join('、')] : null,
    c.step ? ['con.fact.step', [stepName(c.step), ' ', c.light ? lightBadge(c.light) : '']] : null,
    c.step_deadline_at ? ['con.fact.deadline', timeEl(c.step_deadline_at)] : null,
    ['con.fact.level', levelName(c.escalation_level)],
    c.parent_id ? ['con.fact.parent', el('a', { href: `#case/${encodeURIComponent(c.parent_id)}`, className: 'mono', text: c.parent_id })] : null,
    c.rating ? ['con.fact.rating', [c.rating, c.rating_comment ? ` — ${c.rating_comment}` : '']] : null,
    ['con.fact.created', timeEl(c.created_at)],
    ['con.fact.updated', timeEl(c.updated_at)],
  ].filter(Boolean);
  $('case-facts').replaceChildren(...facts.map(([key, value]) => el('div', {}, el('dt', { text: t(key) }), el('dd', {}, value))));

  // Contact: masked unless revealed; the reveal is a deliberate, recorded act.
  const hasContact = Boolean(c.contact_name || c.contact_phone);
  $('case-contact').replaceChildren(...(hasContact
    ? [['con.contact.name', c.contact_name], ['con.contact.phone', c.contact_phone]]
      .filter(([, v]) => v).map(([k, v]) => el('div', {}, el('dt', { text: t(k) }), el('dd', { className: 'mono', text: v })))
    : [el('div', {}, el('dd', { text: t('con.contact.none') }))]));
  $('reveal-contact').hidden = !hasContact || revealed;
  $('contact-hint').textContent = revealed ? t('con.contact.revealed') : t('con.contact.hint');

  // Probable duplicates, each with how far it is.
  $('duplicates').hidden = !dups.length;
  $('duplicates-list').replaceChildren(...dups.map((d) => el('li', {},
    caseLink(d), ' · ',
    t('con.dup.item', { category: categoryName(d.category), status: statusName(d.status), m: distanceM(c, d) }))));

  renderMediation(mediation || []);
  renderActions(c, allowed || []);
  renderAudit(events || []);
}

function renderMediation(entries) {
  $('mediation').hidden = !entries.length;
  $('mediation-list').replaceChildren(...entries.map((m) => {
    const entry = m.entry || {};
    const fields = Object.entries(entry).filter(([k]) => k !== 'kind')
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join('、') : v ?? ''}`).join('；');
    return el('li', {}, timeEl(m.at, 'short'), ' ', el('strong', { text: keyed('con.mediation.kind', entry.kind) }), ' ', fields);
  }));
}

function isOperator() {
  return ['city_operator', 'district_operator', 'street_operator'].includes(state.principal.role);
}

function renderActions(c, allowed) {
  const buttons = [];
  const moves = BUTTON_ORDER.filter((m) => allowed.includes(m))
    .concat(allowed.filter((m) => !BUTTON_ORDER.includes(m) && m !== 'dispatch' && m !== 'request_extension'));
  // POST /dispatch accepts a collected case on the way, so dispatch is offered as soon as accept is.
  const canDispatch = isOperator() && (allowed.includes('dispatch') || (c.status === 'collected' && allowed.includes('accept')));
  for (const move of moves) {
    buttons.push(el('button', {
      type: 'button', className: `btn btn-small ${move === 'accept' ? 'btn-primary' : 'btn-secondary'}`,
      data: { move }, 'aria-expanded': NEEDS[move] ? String(state.panel?.move === move) : null,
      'aria-controls': NEEDS[move] ? 'move-panel' : null, text: moveName(move),
    }));
    if (move === 'accept' && canDispatch) buttons.push(dispatchButton());
  }
  if (canDispatch && !moves.includes('accept')) buttons.unshift(dispatchButton());
  $('case-actions').replaceChildren(...buttons);
  $('actions-none').hidden = buttons.length > 0;
  // A panel whose move is no longer possible closes (the case moved on).
  if (state.panel?.kind === 'move' && !allowed.includes(state.panel.move)) closePanel();
  if (state.panel?.kind === 'dispatch' && !canDispatch) closePanel();
}

function dispatchButton() {
  return el('button', {
    type: 'button', id: 'dispatch-open', className: 'btn btn-primary btn-small',
    'aria-expanded': String(state.panel?.kind === 'dispatch'), 'aria-controls': 'dispatch-panel', text: moveName('dispatch'),
  });
}

// ---------- the audit trail

function renderAudit(events) {
  const items = [...events].sort((a, b) => a.seq - b.seq).map((e, i, all) => {
    const li = el('li', { className: `tl-item${i === all.length - 1 ? ' tl-current' : ''}`, data: { seq: e.seq, type: e.type } },
      timeEl(e.at),
      el('p', { className: 'tl-what', text: has(`con.audit.type.${e.type}`) ? t(`con.audit.type.${e.type}`) : e.type }));
    const meta = [];
    if (e.from_status && e.from_status !== e.status) meta.push(t('con.audit.transition', { from: statusName(e.from_status), to: statusName(e.status) }));
    else if (!e.from_status) meta.push(statusName(e.status));
    const role = keyed('con.role', e.actor_role);
    meta.push(t('con.audit.actor', { role, id: actorName(e) }).trim());
    if (e.channel) meta.push(t('con.audit.channel', { channel: keyed('channel', e.channel) }));
    li.append(el('p', { className: 'tl-meta', text: meta.join(' · ') }));
    for (const line of detailLines(e.details || {})) li.append(line);
    return li;
  });
  if (!items.length) items.push(el('li', { className: 'hint', text: t('con.audit.empty') }));
  $('audit-trail').replaceChildren(...items);
}

/** The details of an event as lines: the known ones in words, any other as key: value. */
function detailLines(d) {
  const lines = [];
  const line = (...children) => lines.push(el('p', { className: 'tl-note' }, ...children));
  const used = new Set();
  const take = (key) => { used.add(key); return d[key]; };
  if (take('reason')) line(t('con.audit.d.reason', { v: d.reason }));
  if (take('note')) line(t('con.audit.d.note', { v: d.note }));
  if (take('department')) line(t('con.audit.d.department', { v: deptName(d.department) }));
  if (take('helpers')?.length) line(t('con.audit.d.helpers', { v: d.helpers.map(deptName).join('、') }));
  if (take('routing')) {
    const r = d.routing;
    line(t('con.audit.d.routing', { v: `${basisText(r)} → ${deptName(r.lead)}` }));
  }
  if (take('parent')) line(t('con.audit.d.parent'), el('a', { href: `#case/${encodeURIComponent(d.parent)}`, className: 'mono', text: d.parent }));
  if (take('deadline')) line(t('con.audit.d.deadline'), timeEl(d.deadline));
  if (take('hours') != null) line(t('con.audit.d.hours', { v: d.hours }));
  if (take('level')) line(t('con.audit.d.level', { v: levelName(d.level) }));
  if (take('grid')) {
    take('match');
    const near = d.match === 'nearest' ? ` ${t('con.audit.d.nearest', { m: Math.round(take('distance_m') || 0) })}` : '';
    take('distance_m');
    line(t('con.audit.d.grid', { v: d.grid }), near);
  }
  const dupIds = take('probable_duplicates');
  if (Array.isArray(dupIds) && dupIds.length) {
    line(t('con.audit.d.duplicates'), ...dupIds.flatMap((id, i) => [i ? '、' : '', el('a', { href: `#case/${encodeURIComponent(id)}`, className: 'mono', text: id })]));
  }
  const evidence = take('evidence');
  if (Array.isArray(evidence) && evidence.length) {
    lines.push(el('p', { className: 'tl-note', text: t('con.audit.d.evidence') }));
    lines.push(el('div', { className: 'photos' }, ...evidence.map(evidenceItem)));
  }
  for (const [key, value] of Object.entries(d)) {
    if (used.has(key) || value == null || value === '' || (Array.isArray(value) && !value.length)) continue;
    const label = has(`con.audit.k.${key}`) ? t(`con.audit.k.${key}`) : key;
    line(t('con.audit.d.other', { k: label, v: typeof value === 'object' ? JSON.stringify(value) : value }));
  }
  return lines;
}

function basisText(r) {
  if (!r) return '';
  if (r.basis === 'rule' && r.rule) return t('con.basis.rule', { position: r.rule.position + 1, version: r.rule.version });
  return keyed('con.basis', r.basis);
}

/** A photo: fetched with the Bearer token (staff only) and shown from a blob: URL. */
function evidenceItem(item) {
  if (!item.href) {
    const url = /^https?:\/\//i.test(item.url || '') ? item.url : null;
    return el('p', { className: 'photo-link' }, url
      ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text: t('con.photo.link', { url }) })
      : String(item.url || ''), item.caption ? ` — ${item.caption}` : '');
  }
  const alt = item.caption ? t('con.photo.altCaption', { caption: item.caption }) : t('con.photo.alt');
  const img = el('img', { alt, loading: 'lazy', width: '160', height: '120' });
  const link = el('a', { className: 'photo', target: '_blank', rel: 'noopener' }, img);
  const figure = el('figure', { className: 'photo-figure' }, link, item.caption ? el('figcaption', { text: item.caption }) : null);
  const show = (url) => { img.src = url; link.href = url; };
  if (state.photos.has(item.href)) show(state.photos.get(item.href));
  else {
    loadPhoto(item.href).then((url) => {
      if (url) show(url);
      else figure.replaceChildren(el('p', { className: 'error-msg', text: t('con.photo.failed') }));
    });
  }
  return figure;
}

async function loadPhoto(href) {
  if (!href.startsWith('/api/')) return null; // only our own evidence route gets the token
  try {
    const res = await fetch(href, { headers: { Authorization: `Bearer ${session()?.token}` } });
    if (!res.ok) return null;
    const url = URL.createObjectURL(await res.blob());
    state.photos.set(href, url);
    return url;
  } catch {
    return null;
  }
}

// ---------- moves

function onMoveButton(move) {
  if (NEEDS[move]) {
    if (state.panel?.kind === 'move' && state.panel.move === move) closePanel();
    else openMovePanel(move);
    return;
  }
  makeMove({ move });
}

function openMovePanel(move) {
  state.panel = { kind: 'move', move };
  state.merge.other = null;
  for (const radio of document.querySelectorAll('input[name="merge-parent"]')) radio.checked = false;
  $('move-reason').value = '';
  $('merge-other').value = '';
  showFieldError('move-reason', null);
  showFieldError('merge-other', null);
  renderPanel();
  if (move === 'merge') {
    const checked = document.querySelector('input[name="merge-parent"]:checked');
    (checked?.id === 'merge-choice-other' ? $('merge-other') : checked)?.focus();
  } else {
    $('move-reason').focus();
  }
}

function closePanel({ refocus = false } = {}) {
  const wasOpen = state.panel;
  state.panel = null;
  $('move-panel').hidden = true;
  $('dispatch-panel').hidden = true;
  for (const b of $('case-actions').querySelectorAll('[aria-expanded]')) b.setAttribute('aria-expanded', 'false');
  // Cancel and Escape give the focus back to the button that opened the panel.
  if (refocus && wasOpen) {
    const opener = wasOpen.kind === 'dispatch' ? $('dispatch-open') : $('case-actions').querySelector(`[data-move="${wasOpen.move}"]`);
    opener?.focus();
  }
}

/** Draws the open panel in the current language. */
function renderPanel() {
  const p = state.panel;
  $('move-panel').hidden = p?.kind !== 'move';
  $('dispatch-panel').hidden = p?.kind !== 'dispatch';
  for (const b of $('case-actions').querySelectorAll('[aria-expanded]')) {
    const mine = b.id === 'dispatch-open' ? p?.kind === 'dispatch' : p?.kind === 'move' && p.move === b.dataset.move;
    b.setAttribute('aria-expanded', String(Boolean(mine)));
  }
  if (p?.kind === 'move') renderMovePanel(p.move);
  if (p?.kind === 'dispatch') renderDispatch();
}

function renderMovePanel(move) {
  const merge = move === 'merge';
  $('move-title').textContent = moveName(move);
  $('merge-section').hidden = !merge;
  const needsReason = NEEDS[move] === 'reason';
  const field = needsReason ? 'reason' : 'note';
  $('move-reason-label').replaceChildren(t(`con.move.${field}`),
    needsReason ? '' : el('span', { className: 'optional', text: ` ${t('common.optional')}` }));
  $('move-reason').required = needsReason || NEEDS[move] === 'note';
  const hintKey = needsReason ? `con.move.reasonHint.${move}` : `con.move.noteHint.${move}`;
  $('move-reason-hint').textContent = has(hintKey) ? t(hintKey) : '';
  $('move-confirm').textContent = t('con.move.confirm', { move: moveName(move) });
  if (merge) renderMergeChoices();
}

function showFieldError(id, text) {
  const msg = $(`${id}-error`);
  msg.hidden = !text;
  msg.textContent = text || '';
  if (text) $(id).setAttribute('aria-invalid', 'true');
  else $(id).removeAttribute('aria-invalid');
}

async function submitMove() {
  const { move } = state.panel || {};
  if (!move) return;
  const text = $('move-reason').value.trim();
  const body = { move };
  if (NEEDS[move] === 'reason' || NEEDS[move] === 'note') {
    if (!text) {
      showFieldError('move-reason', t('con.move.reasonRequired'));
      $('move-reason').focus();
      return;
    }
    body[NEEDS[move]] = text;
  } else if (text) {
    body.note = text;
  }
  showFieldError('move-reason', null);
  if (move === 'merge') {
    const parent = mergeParentId();
    if (!parent) {
      const other = $('merge-choice-other').checked;
      showFieldError('merge-other', t(other ? 'con.merge.otherMissing' : 'con.merge.choose'));
      (other ? $('merge-other') : $('merge-choices').querySelector('input') || $('merge-other')).focus();
      return;
    }
    if (parent === state.current.id) {
      showFieldError('merge-other', t('con.merge.self'));
      $('merge-other').focus();
      return;
    }
    body.parent = parent;
  }
  await makeMove(body, $('move-confirm'));
}

/** POST a move; on success the case is read again (events, allowed moves) and shown. */
async function makeMove(body, button) {
  const id = state.current.id;
  const busy = button || $('case-actions').querySelector(`[data-move="${body.move}"]`);
  const label = busy?.textContent;
  if (busy) {
    busy.disabled = true;
    busy.setAttribute('aria-busy', 'true');
    busy.textContent = t('con.move.busy');
  }
  say(() => t('con.move.busy'));
  const res = await staffFetch('POST', `/cases/${encodeURIComponent(id)}/moves`, body);
  if (busy?.isConnected) {
    busy.disabled = false;
    busy.removeAttribute('aria-busy');
    busy.textContent = label;
  }
  if (state.current?.id !== id) return;
  if (res.ok) {
    closePanel();
    const text = () => t('con.move.done', { move: moveName(body.move), status: statusName(res.data.case.status) });
    await loadCase(id, { message: { text, tone: 'ok' } });
    return;
  }
  handleMoveProblem(res, body.move === 'merge' ? 'merge-other' : 'move-reason');
}

function handleMoveProblem(res, fieldId) {
  if (res.status === 409) {
    // The case moved on meanwhile: show it as it is now.
    closePanel();
    loadCase(state.current.id, { message: { text: () => `${t('con.err.stale')} ${problemText(res.problem)}`, tone: 'error' } });
    return;
  }
  sayProblem(res);
  if (res.status === 422 && fieldId && state.panel) {
    const errors = res.problem.errors || [];
    const mine = errors.filter((e) => ['reason', 'note', 'parent', 'department'].includes(e.field));
    if (mine.length) {
      const target = mine.some((e) => e.field === 'department') ? null : (mine.some((e) => e.field === 'parent') ? 'merge-other' : 'move-reason');
      if (target) {
        showFieldError(target, mine.map((e) => e.message).join('; '));
        $(target).focus();
      }
    }
  }
}

// ---------- merge: choose the main case, compare side by side, see both on a small map

function renderMergeChoices() {
  const { case: c, probable_duplicates: dups } = state.current.data;
  const previous = document.querySelector('input[name="merge-parent"]:checked')?.value;
  const choices = dups.filter((d) => d.id !== c.id).map((d, i) => {
    const id = `merge-choice-${i}`;
    return el('div', { className: 'choice' },
      el('input', { type: 'radio', id, name: 'merge-parent', value: d.id }),
      el('label', { for: id, text: t('con.merge.choice', { code: d.tracking_code, category: categoryName(d.category), status: statusName(d.status), time: formatter('short').format(new Date(d.created_at)) }) }));
  });
  $('merge-choices').replaceChildren(...choices);
  const radios = [...document.querySelectorAll('input[name="merge-parent"]')];
  // Keep the operator's choice across re-renders; the first probable duplicate is the default.
  const keep = previous === undefined ? null : radios.find((r) => r.value === previous);
  if (keep) keep.checked = true;
  else if (choices.length) radios[0].checked = true;
  else $('merge-choice-other').checked = true;
  renderMergeCompare();
}

function mergeParentId() {
  const checked = document.querySelector('input[name="merge-parent"]:checked');
  if (!checked) return '';
  return checked.id === 'merge-choice-other' ? $('merge-other').value.trim() : checked.value;
}

/** The main case chosen, when its data is at hand (a probable duplicate, or a loaded other case). */
function mergeTarget() {
  const checked = document.querySelector('input[name="merge-parent"]:checked');
  if (!checked) return null;
  if (checked.id === 'merge-choice-other') return state.merge.other;
  return state.current.data.probable_duplicates.find((d) => d.id === checked.value) || null;
}

async function loadMergeOther() {
  $('merge-choice-other').checked = true;
  const id = $('merge-other').value.trim();
  if (!id) {
    showFieldError('merge-other', t('con.merge.otherMissing'));
    $('merge-other').focus();
    return;
  }
  if (id === state.current.id) {
    showFieldError('merge-other', t('con.merge.self'));
    return;
  }
  showFieldError('merge-other', null);
  const res = await staffFetch('GET', `/cases/${encodeURIComponent(id)}`);
  if (!res.ok) {
    state.merge.other = null;
    showFieldError('merge-other', res.status === 404 ? t('con.merge.otherNotFound') : problemText(res.problem));
    renderMergeCompare();
    return;
  }
  state.merge.other = res.data.case;
  renderMergeCompare();
}

function compareCard(c, titleKey, mark) {
  return el('section', { className: 'compare-card', 'aria-label': t(titleKey) },
    el('h5', {}, el('span', { className: `map-key map-key-${mark}`, 'aria-hidden': 'true' }), t(titleKey)),
    el('dl', { className: 'facts' },
      ...[
        ['con.col.code', caseLink(c)],
        ['con.col.status', statusBadge(c.status)],
        ['con.fact.category', categoryName(c.category)],
        ['con.fact.created', timeEl(c.created_at, 'short')],
        c.address ? ['con.fact.address', c.address] : null,
        ['con.fact.description', el('span', { className: 'pre-wrap', text: c.description })],
        ['con.fact.grid', el('span', { className: 'mono small', text: c.grid_code })],
      ].filter(Boolean).map(([k, v]) => el('div', {}, el('dt', { text: t(k) }), el('dd', {}, v)))));
}

function renderMergeCompare() {
  const c = state.current.data.case;
  const target = mergeTarget();
  if (!target) {
    $('merge-compare').replaceChildren();
    $('merge-map-figure').hidden = true;
    return;
  }
  $('merge-compare').replaceChildren(
    compareCard(c, 'con.merge.this', 'this'),
    compareCard(target, 'con.merge.target', 'target'),
    el('p', { className: 'compare-distance', text: t('con.merge.distance', { m: distanceM(c, target) }) }));
  drawMergeMap(c, target);
}

/** The GeoJSON of a grid code, fetched once. */
function geojson(code) {
  if (!state.geo.has(code)) {
    state.geo.set(code, staffFetch('GET', `/grids/${encodeURIComponent(code)}.geojson`, undefined, { accept: 'application/geo+json, application/json' })
      .then((res) => (res.ok && res.data && typeof res.data === 'object' ? res.data : null)));
  }
  return state.geo.get(code);
}

/** Cells around the two cases: their communities' cells, or just their own cells when a community is not found. */
async function cellsAround(a, b) {
  const features = [];
  const seen = new Set();
  const add = (f) => {
    const code = f?.properties?.code || f?.id;
    if (f?.geometry && !seen.has(code)) {
      seen.add(code);
      features.push(f);
    }
  };
  const communities = [...new Set([a.grid_code, b.grid_code].map((g) => String(g).slice(0, 12)))];
  const collections = await Promise.all(communities.map(geojson));
  collections.forEach((fc) => (fc?.features || []).forEach(add));
  for (const g of [a.grid_code, b.grid_code]) {
    if (!seen.has(g)) add(await geojson(g));
  }
  return features;
}

function polygonsOf(geometry) {
  if (geometry?.type === 'Polygon') return [geometry.coordinates];
  if (geometry?.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

async function drawMergeMap(a, b) {
  const seq = state.current.seq;
  const features = await cellsAround(a, b);
  const target = mergeTarget();
  // Drawn only if the same comparison is still on screen.
  if (seq !== state.current.seq || state.panel?.move !== 'merge' || target?.id !== b.id) return;
  const figure = $('merge-map-figure');
  const points = [a, b].map((c) => [Number(c.lng), Number(c.lat)]);
  const hit = new Set([a.grid_code, b.grid_code]);
  // The frame: the two cases' cells and points, with a margin that shows some neighbours.
  const framed = [...points];
  for (const f of features) {
    if (!hit.has(f.properties?.code || f.id)) continue;
    for (const poly of polygonsOf(f.geometry)) for (const ring of poly) framed.push(...ring);
  }
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of framed) {
    minX = Math.min(minX, x); maxX = Math.max(maxX, x);
    minY = Math.min(minY, y); maxY = Math.max(maxY, y);
  }
  const marginX = Math.max((maxX - minX) * 0.25, 0.0005);
  const marginY = Math.max((maxY - minY) * 0.25, 0.0005);
  [minX, maxX, minY, maxY] = [minX - marginX, maxX + marginX, minY - marginY, maxY + marginY];
  // Equirectangular, with longitude shrunk by cos(latitude): true shapes at a city's scale.
  const kx = Math.cos(((minY + maxY) / 2) * Math.PI / 180);
  const spanX = (maxX - minX) * kx;
  const spanY = maxY - minY;
  const W = 400;
  const H_MAX = 300;
  const scale = Math.min(W / spanX, H_MAX / spanY);
  const H = Math.max(spanY * scale, 160);
  const offX = (W - spanX * scale) / 2;
  const offY = (H - spanY * scale) / 2;
  const px = ([x, y]) => [offX + (x - minX) * kx * scale, offY + (maxY - y) * scale];
  const NS = 'http://www.w3.org/2000/svg';
  const svg = (tag, attrs = {}) => {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  const root = svg('svg', { viewBox: `0 0 ${W} ${H.toFixed(1)}`, role: 'img', 'aria-labelledby': 'merge-map-title merge-map-desc', class: 'mini-map-svg' });
  const title = svg('title', { id: 'merge-map-title' });
  title.textContent = t('con.merge.mapTitle');
  const desc = svg('desc', { id: 'merge-map-desc' });
  desc.textContent = `${t('con.merge.map')} ${t('con.merge.distance', { m: distanceM(a, b) })}`;
  root.append(title, desc);
  for (const f of features) {
    const code = f.properties?.code || f.id;
    const d = polygonsOf(f.geometry).flatMap((poly) => poly.map((ring) =>
      `M${ring.map((p) => px(p).map((n) => n.toFixed(1)).join(',')).join('L')}Z`)).join('');
    const path = svg('path', { d, class: hit.has(code) ? 'map-cell map-cell-hit' : 'map-cell', 'fill-rule': 'evenodd' });
    const tip = svg('title');
    tip.textContent = `${f.properties?.name || ''} ${code}`;
    path.append(tip);
    root.append(path);
  }
  const [ax, ay] = px(points[0]);
  const [bx, by] = px(points[1]);
  root.append(svg('line', { x1: ax, y1: ay, x2: bx, y2: by, class: 'map-link' }));
  // The main case a square, this case a dot: told apart by shape as well as colour.
  root.append(svg('rect', { x: bx - 7, y: by - 7, width: 14, height: 14, class: 'map-point map-point-target' }));
  root.append(svg('circle', { cx: ax, cy: ay, r: 6, class: 'map-point map-point-this' }));
  $('merge-map').replaceChildren(root);
  $('merge-map-caption').textContent = t('con.merge.map');
  figure.hidden = false;
}

// ---------- dispatch with the routing suggestion

async function openDispatch() {
  if (state.panel?.kind === 'dispatch') {
    closePanel();
    return;
  }
  const c = state.current.data.case;
  state.panel = { kind: 'dispatch', routing: null, problem: null, loading: true };
  $('dispatch-note').value = '';
  renderPanel();
  $('dispatch-title').focus();
  const res = await staffFetch('POST', '/routing/preview', { category: c.category, grid_code: c.grid_code });
  if (state.panel?.kind !== 'dispatch' || state.current.data.case.id !== c.id) return;
  state.panel.loading = false;
  if (res.ok) {
    state.panel.routing = res.data.routing;
  } else {
    state.panel.problem = res.problem;
  }
  if (state.panel?.kind !== 'dispatch') return;
  renderDispatch({ preselect: true });
}

function renderDispatch({ preselect = false } = {}) {
  const p = state.panel;
  const c = state.current.data.case;
  const box = $('routing-suggestion');
  const select = $('dispatch-department');
  const lines = [];
  // The suggestion box stays empty until the answer is in (and the select set from it), so
  // "#routing-suggestion:not(:empty)" means the suggestion is ready; the wait shows beside it.
  $('dispatch-loading').hidden = !p.loading;
  $('dispatch-loading').textContent = p.loading ? t('con.dispatch.loading') : '';
  if (p.routing) {
    const r = p.routing;
    lines.push(el('p', { className: 'strong' }, t('con.dispatch.suggest', { department: deptName(r.lead) }), ' ',
      el('span', { className: 'mono small', data: { department: r.lead }, text: `(${r.lead})` })));
    lines.push(el('p', { data: { basis: r.basis }, text: t('con.dispatch.basis', { basis: basisText(r) }) }));
    if ((r.helpers || []).length) lines.push(el('p', { text: t('con.dispatch.helpers', { helpers: r.helpers.map(deptName).join('、') }) }));
  } else if (p.problem) {
    lines.push(el('p', { text: t('con.dispatch.noSuggestion', { problem: problemText(p.problem) }) }));
  }
  if (!p.loading && c.status === 'collected') lines.push(el('p', { text: t('con.dispatch.acceptFirst') }));
  box.replaceChildren(...lines);
  box.classList.toggle('notice-warn', Boolean(p.problem));

  // Every department of the directory, the suggestion first and marked as such.
  const lead = p.routing?.lead;
  const codes = new Set([lead, ...(p.routing?.helpers || []), c.department, ...state.departments.keys()].filter(Boolean));
  const rest = [...codes].filter((d) => d !== lead).map((d) => [d, deptName(d)]).sort((x, y) => x[1].localeCompare(y[1], locale()));
  const pairs = lead ? [[lead, t('con.dispatch.suggested', { name: deptName(lead) })], ...rest] : rest;
  const fallback = lead || state.categories.get(c.category)?.department || '';
  fillSelect(select, pairs, preselect ? fallback : select.value || fallback);
  select.disabled = p.loading;
  $('dispatch-confirm').disabled = p.loading || !select.value;
  renderDispatchHint();
}

function renderDispatchHint() {
  const p = state.panel;
  const overriding = p?.routing && $('dispatch-department').value !== p.routing.lead && (p.routing.helpers || []).length > 0;
  $('dispatch-department-hint').textContent = overriding ? t('con.dispatch.override') : t('con.dispatch.departmentHint');
}

async function submitDispatch() {
  const p = state.panel;
  if (p?.kind !== 'dispatch' || p.loading) return;
  const id = state.current.id;
  const department = $('dispatch-department').value;
  const body = {};
  // Taking the suggestion lets the server route it again, so the trail records the rule and the helpers.
  if (!p.routing || department !== p.routing.lead) body.department = department;
  const note = $('dispatch-note').value.trim();
  if (note) body.note = note;
  const button = $('dispatch-confirm');
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  say(() => t('con.move.busy'));
  const res = await staffFetch('POST', `/cases/${encodeURIComponent(id)}/dispatch`, body);
  button.disabled = false;
  button.removeAttribute('aria-busy');
  if (state.current?.id !== id) return;
  if (res.ok) {
    closePanel();
    const status = res.data.delivery?.status;
    const text = () => t('con.dispatch.done', {
      department: deptName(res.data.case.department),
      delivery: has(`con.delivery.${status}`) ? t(`con.delivery.${status}`) : '',
    });
    await loadCase(id, { message: { text, tone: 'ok' } });
    return;
  }
  handleMoveProblem(res, null);
  if (res.status === 422) $('dispatch-department').focus();
}

start();
