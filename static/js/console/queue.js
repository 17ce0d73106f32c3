// The queue view (#queue?filters): the cases in the operator's scope, newest first, narrowed by
// status, escalation level, light, category, area and department. The filters live in the URL,
// so a filtered queue is a link to share; a bare #queue is the incoming queue (to accept).

import { t, locale } from '../i18n.js';
import { $, el, fillSelect, showFieldError } from '../dom.js';
import { localName, timeEl } from '../format.js';
import { staffFetch } from '../staff.js';
import { categories, departments, departmentName } from '../staff-case.js';
import { state, say, sayProblem } from './state.js';
import { STATUSES, LEVELS, LIGHTS, statusName, levelName, lightName, statusBadge, lightBadge, caseLink, categoryCell, truncate } from './labels.js';

const FILTERS = ['status', 'level', 'light', 'category', 'department'];
// An area is a district (6 digits), street (9), community (12) or cell (15).
const AREA_CODE = /^\d{6}(\d{3}){0,3}$/;

/** The filters of the queue without any: the incoming cases, waiting to be accepted. */
export const INCOMING = 'status=collected';

export function wireQueue() {
  $('queue-filters').addEventListener('submit', (event) => {
    event.preventDefault();
    applyFilters();
  });
  $('filter-reset').addEventListener('click', () => {
    $('f-area').value = '';
    setAreaError(null);
    if (location.hash === '#queue') showQueue(new URLSearchParams(INCOMING));
    else location.hash = 'queue';
  });
  $('queue-refresh').addEventListener('click', () => loadQueue(state.queue.params));
  $('queue-more').addEventListener('click', () => loadQueue(state.queue.params, { more: true }));
}

/** The queue for these filters: shown in the form, then read. */
export function showQueue(params) {
  setFilterInputs(params);
  loadQueue(params);
}

/** The filters' choices, in the current language. */
export function renderFilterOptions() {
  const any = ['', t('con.any')];
  fillSelect($('f-status'), [any, ...STATUSES.map((s) => [s, statusName(s)])]);
  fillSelect($('f-level'), [any, ...LEVELS.map((l) => [l, levelName(l)])]);
  fillSelect($('f-light'), [any, ...LIGHTS.map((l) => [l, lightName(l)])]);
  const cats = [...categories.values()].sort((a, b) => a.code.localeCompare(b.code));
  fillSelect($('f-category'), [any, ...cats.map((c) => [c.code, localName(c)])]);
  const depts = [...departments.keys()].map((d) => [d, departmentName(d)]).sort((a, b) => a[1].localeCompare(b[1], locale()));
  fillSelect($('f-department'), [any, ...depts]);
}

function setFilterInputs(params) {
  for (const name of FILTERS) {
    const select = $(`f-${name}`);
    const value = params.get(name) || '';
    // A filter value not in the list (an unknown department in a shared link) is still shown.
    if (value && ![...select.options].some((o) => o.value === value)) select.append(el('option', { value, text: value }));
    select.value = value;
  }
  $('f-area').value = params.get('area') || '';
}

function setAreaError(key) {
  showFieldError('f-area', key ? t(key) : null);
}

function applyFilters() {
  const area = $('f-area').value.trim();
  if (area && !AREA_CODE.test(area)) {
    setAreaError('con.filter.areaInvalid');
    $('f-area').focus();
    return;
  }
  setAreaError(null);
  const params = new URLSearchParams();
  // status is always written, empty meaning "every status", so the default (collected) does not come back.
  params.set('status', $('f-status').value);
  for (const name of FILTERS.slice(1)) {
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

export function renderQueue() {
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
    el('th', { scope: 'row' }, caseLink(c), el('br'), el('span', { class: 'hint-inline nowrap' }, timeEl(c.created_at, { style: 'short', city: true }))),
    categoryCell(c),
    el('td', { class: 'cell-description', title: c.description },
      truncate(c.description, 40),
      dup ? el('span', { class: 'tag tag-warn', text: t('con.queue.dup') }) : null),
    el('td', {}, statusBadge(c.status)),
    el('td', {}, lightBadge(c.light)),
    el('td', { class: 'nowrap' }, levelName(c.escalation_level)));
}
