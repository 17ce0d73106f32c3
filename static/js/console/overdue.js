// The overdue board (#overdue): every red (overdue) and yellow (due soon) case in scope, grouped
// by escalation level, the earliest deadline first. Lights change with the clock, so the board
// reads itself again every minute while it is shown.

import { t } from '../i18n.js';
import { $, el } from '../dom.js';
import { timeEl } from '../format.js';
import { staffFetch } from '../staff.js';
import { departmentName, duration } from '../staff-case.js';
import { state, say, sayProblem } from './state.js';
import { LEVELS, levelName, stepName, lightBadge, caseLink, categoryCell } from './labels.js';

const OVERDUE_CAP = 1000; // the board reads at most this many cases per light
const PAGE = 200; // the largest page GET /api/cases gives
const COLUMNS = ['con.col.code', 'con.col.categoryGrid', 'con.col.step', 'con.col.deadline', 'con.col.light', 'con.col.department'];

export function wireOverdue() {
  $('overdue-refresh').addEventListener('click', () => loadOverdue());
  // Quietly: a status message every minute would keep interrupting screen-reader users.
  setInterval(() => {
    if (state.route?.view === 'overdue' && !document.hidden) loadOverdue({ quiet: true });
  }, 60_000);
}

/** Every case of one light, page by page, up to the cap. */
async function fetchLight(light) {
  const items = [];
  let after = null;
  do {
    const q = new URLSearchParams({ light, limit: String(PAGE) });
    if (after) q.set('after', after);
    const res = await staffFetch('GET', `/cases?${q}`);
    if (!res.ok) return { res };
    items.push(...(res.data.items || []));
    after = res.data.next;
  } while (after && items.length < OVERDUE_CAP);
  return { items, truncated: Boolean(after) };
}

export async function loadOverdue({ quiet = false } = {}) {
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

export function renderOverdue() {
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
    groups.push(el('section', { class: 'board-group', 'aria-labelledby': headingId },
      el('h3', { id: headingId, text: t('con.overdue.group', { level: levelName(level), n: cases.length }) }),
      el('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-labelledby': headingId },
        el('table', { class: 'data-table' },
          el('caption', { class: 'visually-hidden', text: t('con.overdue.caption', { level: levelName(level) }) }),
          el('thead', {}, el('tr', {}, ...COLUMNS.map((k) => el('th', { scope: 'col', text: t(k) })))),
          el('tbody', {}, ...cases.map(overdueRow))))));
  }
  if (loaded && !groups.length) groups.push(el('p', { class: 'notice', text: t('con.overdue.empty') }));
  $('overdue-groups').replaceChildren(...groups);
}

function overdueRow(c) {
  const left = Date.parse(c.step_deadline_at) - Date.now();
  return el('tr', { data: { caseId: c.id }, class: c.light === 'red' ? 'row-red' : '' },
    el('th', { scope: 'row' }, caseLink(c)),
    categoryCell(c),
    el('td', { class: 'nowrap' }, stepName(c.step)),
    el('td', {}, timeEl(c.step_deadline_at, { style: 'short', city: true }), el('br'),
      el('span', { class: 'hint-inline', text: t(left < 0 ? 'con.overdue.late' : 'con.overdue.left', { d: duration(left) }) })),
    el('td', {}, lightBadge(c.light)),
    el('td', {}, departmentName(c.department) || '—'));
}
