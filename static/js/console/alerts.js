// The early-warning board (#alerts) and one alert (#alert/ID): what the detectors raised in the
// operator's area, newest first, and an alert's figures, explanation, evidence (linked to the
// cases) and trail, with its moves. Acting and dismissing need a note: what is done, or why it is
// no episode; the server refuses either without one, and so does the form.

import { t, tOr } from '../i18n.js';
import { $, el } from '../dom.js';
import { timeEl } from '../format.js';
import { staffFetch } from '../staff.js';
import { categoryName, departmentName } from '../staff-case.js';
import { state, say, sayProblem } from './state.js';

const COLUMNS = ['con.alerts.col.opened', 'con.alerts.col.area', 'con.col.category', 'con.alerts.col.figures', 'con.alerts.col.status'];
const NOTE_NEEDED = ['act', 'dismiss'];

const statusWord = (s) => tOr(`con.alerts.status.${s}`, s);
const signalWord = (s) => tOr(`con.alerts.signal.${s}`, s);
const actionWord = (a) => tOr(`con.alerts.action.${a}`, a);

/** What an alert is about: its place, or (a department's alert) the department. */
function subjectName(a) {
  return a.area ? a.area_name : (departmentName(a.department) || a.department);
}

function statusBadge(status) {
  const tone = { new: 'stop', acknowledged: 'warn', acting: 'info', closed: 'ok', dismissed: 'neutral' }[status] || 'neutral';
  return el('span', { class: `badge badge-small badge-${tone}`, data: { alertStatus: status }, text: statusWord(status) });
}

/** An alert's figures in the page's language: a cluster's count against its usual, a repeat's
 * reports since the case before it was closed. */
function figuresText(a) {
  if (a.signal === 'repeat') return t('con.alerts.figuresRepeat', { observed: a.observed, from: a.window_from });
  return t('con.alerts.figures', { observed: a.observed, expected: a.expected.toFixed(1), days: a.window_days });
}

export function wireAlerts() {
  $('alerts-refresh').addEventListener('click', () => loadAlerts());
  $('alerts-status').addEventListener('change', () => loadAlerts());
  $('alert-actions').addEventListener('click', (e) => {
    const button = e.target.closest('button[data-action]');
    if (button) moveAlert(button.dataset.action);
  });
}

export async function loadAlerts() {
  const seq = ++state.alerts.seq;
  say(() => t('con.loading'));
  const status = $('alerts-status').value || 'open';
  const res = await staffFetch('GET', `/alerts?status=${encodeURIComponent(status)}&limit=200`);
  if (seq !== state.alerts.seq) return;
  if (!res.ok) {
    sayProblem(res);
    state.alerts = { ...state.alerts, items: [], loaded: false };
    renderAlerts();
    return;
  }
  state.alerts = { ...state.alerts, items: res.data.items || [], loaded: true };
  renderAlerts();
  say(() => t('con.alerts.loaded', { n: state.alerts.items.length }));
}

export function renderAlerts() {
  const { items, loaded } = state.alerts;
  const body = items.map((a) => el('tr', { data: { alertId: a.id } },
    el('td', {}, timeEl(a.opened_at, { style: 'short', city: true })),
    el('th', { scope: 'row' }, el('a', { href: `#alert/${encodeURIComponent(a.id)}`, text: subjectName(a) }), el('br'),
      el('span', { class: 'mono hint-inline', text: a.area || a.department })),
    el('td', {}, a.category ? categoryName(a.category) : signalWord(a.signal)),
    el('td', {}, figuresText(a)),
    el('td', {}, statusBadge(a.status))));
  $('alerts-list').replaceChildren(
    loaded && !items.length
      ? el('p', { class: 'notice', text: t('con.alerts.empty') })
      : el('div', { class: 'table-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'alerts-heading' },
        el('table', { class: 'data-table', id: 'alerts-table' },
          el('caption', { class: 'visually-hidden', text: t('con.alerts.caption') }),
          el('thead', {}, el('tr', {}, ...COLUMNS.map((k) => el('th', { scope: 'col', text: t(k) })))),
          el('tbody', {}, ...body))));
}

export async function loadAlert(id) {
  const seq = ++state.alerts.seq;
  state.alert = { id, data: null };
  renderAlert();
  const res = await staffFetch('GET', `/alerts/${encodeURIComponent(id)}`);
  if (seq !== state.alerts.seq) return;
  if (!res.ok) {
    sayProblem(res);
    return;
  }
  state.alert = { id, data: res.data };
  renderAlert();
  $('alert-heading').focus();
}

export function renderAlert() {
  const a = state.alert?.data;
  $('alert-body').hidden = !a;
  if (!a) {
    $('alert-heading').textContent = t('con.loading');
    return;
  }
  $('alert-heading').textContent = a.area
    ? t('con.alerts.title', { signal: signalWord(a.signal), category: categoryName(a.category), area: a.area_name })
    : t('con.alerts.titleDepartment', { signal: signalWord(a.signal), department: subjectName(a) });
  document.title = `${$('alert-heading').textContent} · ${t('con.title')}`;
  $('alert-status').replaceChildren(statusBadge(a.status));
  $('alert-explanation').textContent = a.explanation;
  $('alert-facts').replaceChildren(
    fact('con.alerts.fact.figures', figuresText(a)),
    a.p_value == null ? null : fact('con.alerts.fact.chance', t('con.alerts.chance', { p: a.p_value.toPrecision(2) })),
    a.signal === 'repeat' ? null : fact('con.alerts.fact.window', t('con.alerts.window', { from: a.window_from, days: a.window_days })),
    fact('con.alerts.fact.unit', a.street
      ? t('con.alerts.unit', { street: a.street_name || a.street, department: departmentName(a.department) || a.department })
      : t('con.alerts.unitCity', { department: departmentName(a.department) || a.department })),
    fact('con.alerts.fact.rule', t('con.alerts.rule', { signal: signalWord(a.signal), version: a.rule_version })));
  $('alert-evidence').replaceChildren(...a.evidence.map((c) => el('li', {},
    el('a', { href: `#case/${encodeURIComponent(c.id)}`, class: 'mono', text: c.tracking_code }), ' ',
    tOr(`con.status.${c.status}`, c.status), ' · ', timeEl(c.created_at, { style: 'short', city: true }))));
  $('alert-trail').replaceChildren(...a.events.map((e) => el('li', { data: { action: e.action } },
    timeEl(e.at, { style: 'short', city: true }), ' ',
    el('strong', { text: tOr(`con.alerts.did.${e.action}`, e.action) }), ' · ', e.actor_name,
    e.note ? el('p', { class: 'alert-note', text: e.note }) : null)));
  const open = a.allowed_actions.length > 0;
  $('alert-move').hidden = !open;
  $('alert-actions').replaceChildren(...a.allowed_actions.map((action) => el('button', {
    type: 'button', class: action === 'dismiss' ? 'btn btn-secondary' : 'btn btn-primary', data: { action }, text: actionWord(action),
  })));
}

function fact(key, value) {
  return el('div', {}, el('dt', { text: t(key) }), el('dd', { text: value }));
}

async function moveAlert(action) {
  const a = state.alert?.data;
  if (!a) return;
  const note = $('alert-note').value.trim();
  $('alert-note-error').hidden = true;
  if (NOTE_NEEDED.includes(action) && !note) {
    $('alert-note-error').textContent = t(action === 'dismiss' ? 'con.alerts.needReason' : 'con.alerts.needNote');
    $('alert-note-error').hidden = false;
    $('alert-note').focus();
    return;
  }
  const res = await staffFetch('POST', `/alerts/${encodeURIComponent(a.id)}/moves`, { action, note: note || null });
  if (!res.ok) {
    sayProblem(res);
    return;
  }
  $('alert-note').value = '';
  state.alert = { id: a.id, data: res.data };
  renderAlert();
  say(() => t('con.alerts.moved', { status: statusWord(res.data.status) }));
}
