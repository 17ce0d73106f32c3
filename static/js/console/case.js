// The case view (#case/ID): one case's facts, the reporter's contact (masked unless revealed,
// which goes on the record), probable duplicates, mediation, the buttons of the moves the
// server allows the operator now, and the audit trail. The panels behind the buttons are in
// panels.js; the trail in audit.js.

import { t } from '../i18n.js';
import { $, el } from '../dom.js';
import { statusTone, timeEl } from '../format.js';
import { staffFetch } from '../staff.js';
import { categoryName, departmentName, forgetEvidencePhotos, moveRule } from '../staff-case.js';
import { state, say, sayProblem } from './state.js';
import { keyed, statusName, levelName, stepName, moveName, lightBadge, caseLink } from './labels.js';
import { renderAudit } from './audit.js';
import { wirePanels, closePanel, onMoveButton, openDispatch } from './panels.js';
import { distanceM } from './merge.js';

// Presentation only: the order of the buttons (the server says which moves there are). Dispatch
// has its own button; request_extension is a department's move and never offered here.
const BUTTON_ORDER = ['accept', 'merge', 'reject', 'approve_extension', 'refuse_extension', 'verify_pass', 'verify_fail', 'close'];
const NOT_BUTTONS = ['dispatch', 'request_extension'];
const OPERATORS = ['city_operator', 'district_operator', 'street_operator'];

export function wireCase() {
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
  // After a move (or a refusal because the case moved on) the case is read again and shown.
  wirePanels((message) => loadCase(state.current.id, { message }));
}

/**
 * Reads the case and shows it. `reveal`: with the whole contact (recorded on the trail);
 * `message`: {text, tone} for the status line instead of "loaded"; `focus`: to the heading.
 */
export async function loadCase(id, { reveal = false, message = null, focus = true } = {}) {
  if (state.current?.id !== id) {
    forgetEvidencePhotos();
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

const fact = ([key, value]) => el('div', {}, el('dt', { text: t(key) }), el('dd', {}, value));

export function renderCase() {
  const { case: c, events, allowed_moves: allowed, probable_duplicates: dups, mediation, revealed } = state.current.data;
  $('case-heading').textContent = t('con.case.heading', { code: c.tracking_code });
  document.title = `${c.tracking_code} · ${t('con.title')}`;

  const status = $('case-status');
  status.className = `badge badge-${statusTone(c.status)}`;
  status.dataset.status = c.status;
  status.textContent = statusName(c.status);
  $('case-light').replaceChildren(c.light ? lightBadge(c.light) : '');

  const time = (iso) => timeEl(iso, { city: true });
  $('case-facts').replaceChildren(...[
    ['con.fact.id', el('span', { class: 'mono', text: c.id })],
    ['con.fact.category', categoryName(c.category)],
    ['con.fact.description', el('span', { class: 'pre-wrap', text: c.description })],
    c.address ? ['con.fact.address', c.address] : null,
    ['con.fact.grid', [state.gridNames.get(c.grid_code) || '', ' ', el('span', { class: 'mono small', text: c.grid_code })]],
    ['con.fact.point', el('span', { class: 'mono small', text: `${Number(c.lat).toFixed(5)}, ${Number(c.lng).toFixed(5)}` })],
    ['con.fact.channel', keyed('channel', c.channel)],
    c.asset_id ? ['con.fact.asset', el('span', { class: 'mono', text: c.asset_id })] : null,
    ['con.fact.priority', t('con.priority', { n: c.priority })],
    c.department ? ['con.fact.department', departmentName(c.department)] : null,
    (c.helpers || []).length ? ['con.fact.helpers', c.helpers.map(departmentName).join('、')] : null,
    c.step ? ['con.fact.step', [stepName(c.step), ' ', c.light ? lightBadge(c.light) : '']] : null,
    c.step_deadline_at ? ['con.fact.deadline', time(c.step_deadline_at)] : null,
    ['con.fact.level', levelName(c.escalation_level)],
    c.parent_id ? ['con.fact.parent', caseLink({ id: c.parent_id })] : null,
    c.rating ? ['con.fact.rating', [c.rating, c.rating_comment ? ` — ${c.rating_comment}` : '']] : null,
    ['con.fact.created', time(c.created_at)],
    ['con.fact.updated', time(c.updated_at)],
  ].filter(Boolean).map(fact));

  // Contact: masked unless revealed; the reveal is a deliberate, recorded act.
  const hasContact = Boolean(c.contact_name || c.contact_phone);
  $('case-contact').replaceChildren(...(hasContact
    ? [['con.contact.name', c.contact_name], ['con.contact.phone', c.contact_phone]]
      .filter(([, v]) => v).map(([k, v]) => el('div', {}, el('dt', { text: t(k) }), el('dd', { class: 'mono', text: v })))
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
    return el('li', {}, timeEl(m.at, { style: 'short', city: true }), ' ', el('strong', { text: keyed('con.mediation.kind', entry.kind) }), ' ', fields);
  }));
}

/** Whether the case's answer lets the operator dispatch now: POST /dispatch also accepts a collected case on the way. */
function canDispatch(c, allowed) {
  return OPERATORS.includes(state.principal.role) && (allowed.includes('dispatch') || (c.status === 'collected' && allowed.includes('accept')));
}

function renderActions(c, allowed) {
  const buttons = [];
  const moves = BUTTON_ORDER.filter((m) => allowed.includes(m))
    .concat(allowed.filter((m) => !BUTTON_ORDER.includes(m) && !NOT_BUTTONS.includes(m)));
  const dispatch = canDispatch(c, allowed);
  for (const move of moves) {
    // A move that needs words or a main case opens a panel; any other is made on the press.
    const panel = moveRule(state.current.data, move).requires.length > 0;
    buttons.push(el('button', {
      type: 'button', class: `btn btn-small ${move === 'accept' ? 'btn-primary' : 'btn-secondary'}`,
      data: { move }, 'aria-expanded': panel ? String(state.panel?.move === move) : null,
      'aria-controls': panel ? 'move-panel' : null, text: moveName(move),
    }));
    if (move === 'accept' && dispatch) buttons.push(dispatchButton());
  }
  if (dispatch && !moves.includes('accept')) buttons.unshift(dispatchButton());
  $('case-actions').replaceChildren(...buttons);
  $('actions-none').hidden = buttons.length > 0;
  // A panel whose move is no longer possible closes (the case moved on).
  if (state.panel?.kind === 'move' && !allowed.includes(state.panel.move)) closePanel();
  if (state.panel?.kind === 'dispatch' && !dispatch) closePanel();
}

function dispatchButton() {
  return el('button', {
    type: 'button', id: 'dispatch-open', class: 'btn btn-primary btn-small',
    'aria-expanded': String(state.panel?.kind === 'dispatch'), 'aria-controls': 'dispatch-panel', text: moveName('dispatch'),
  });
}
