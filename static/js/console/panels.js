// The panels behind the case's buttons: a move that needs words (a reason, a note) or a main case
// (merge), and dispatch with the routing suggestion. What a move needs comes from the server's
// answer (`moves`), not from a copy of the state machine. One panel is open at a time; Escape
// and Cancel close it and give the focus back to its button.

import { t, tOr, locale } from '../i18n.js';
import { $, el, fillSelect, showFieldError } from '../dom.js';
import { staffFetch, problemText } from '../staff.js';
import { categories, departments, departmentName, moveRule } from '../staff-case.js';
import { state, say, sayProblem } from './state.js';
import { statusName, moveName, basisText } from './labels.js';
import { wireMerge, resetMerge, renderMergeChoices, mergeParentId } from './merge.js';

// The fields of a 422 that concern the move panel.
const PANEL_FIELDS = ['reason', 'note', 'parent', 'department', 'category', 'lat', 'lng', 'crs'];

let reload = null; // (message) → the case read again and shown with that status line

/** Binds the panels; `reloadCase(message)` shows the case again after a move. */
export function wirePanels(reloadCase) {
  reload = reloadCase;
  $('move-panel').addEventListener('submit', (event) => {
    event.preventDefault();
    submitMove();
  });
  $('move-cancel').addEventListener('click', () => closePanel({ refocus: true }));
  wireMerge();
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

/** A move's button: a move that needs something opens (or closes) its panel; any other is made at once. */
export function onMoveButton(move) {
  if (moveRule(state.current.data, move).requires.length) {
    if (state.panel?.kind === 'move' && state.panel.move === move) closePanel();
    else openMovePanel(move);
    return;
  }
  makeMove({ move });
}

function openMovePanel(move) {
  const { requires } = moveRule(state.current.data, move);
  state.panel = { kind: 'move', move, requires };
  resetMerge();
  $('move-reason').value = '';
  showFieldError('move-reason', null);
  if (requires.includes('category')) resetCorrection();
  renderPanel();
  if (requires.includes('parent')) {
    const checked = document.querySelector('input[name="merge-parent"]:checked');
    (checked?.id === 'merge-choice-other' ? $('merge-other') : checked)?.focus();
  } else if (requires.includes('category')) {
    $('correct-category').focus();
  } else {
    $('move-reason').focus();
  }
}

/** The correction's boxes start from what the case has now. */
function resetCorrection() {
  const c = state.current.data.case;
  const names = [...categories.values()].map((cat) => [cat.code, locale() === 'en' ? cat.name_en : cat.name_zh]);
  fillSelect($('correct-category'), names, c.category);
  $('correct-lat').value = '';
  $('correct-lng').value = '';
  showFieldError('correct-category', null);
}

export function closePanel({ refocus = false } = {}) {
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
export function renderPanel() {
  const p = state.panel;
  $('move-panel').hidden = p?.kind !== 'move';
  $('dispatch-panel').hidden = p?.kind !== 'dispatch';
  for (const b of $('case-actions').querySelectorAll('[aria-expanded]')) {
    const mine = b.id === 'dispatch-open' ? p?.kind === 'dispatch' : p?.kind === 'move' && p.move === b.dataset.move;
    b.setAttribute('aria-expanded', String(Boolean(mine)));
  }
  if (p?.kind === 'move') renderMovePanel(p);
  if (p?.kind === 'dispatch') renderDispatch();
}

// ---------- a move with a reason, a note or a main case

/** The text box's field: a reason or a note when the move requires one, else an optional note. */
function textField(requires) {
  if (requires.includes('reason')) return { name: 'reason', required: true };
  return { name: 'note', required: requires.includes('note') };
}

function renderMovePanel({ move, requires }) {
  const merge = requires.includes('parent');
  $('move-title').textContent = moveName(move);
  $('merge-section').hidden = !merge;
  $('correct-section').hidden = !requires.includes('category');
  const field = textField(requires);
  $('move-reason-label').replaceChildren(t(`con.move.${field.name}`),
    field.required ? '' : el('span', { class: 'optional', text: ` ${t('common.optional')}` }));
  $('move-reason').required = field.required;
  $('move-reason-hint').textContent = tOr(`con.move.${field.name === 'reason' ? 'reasonHint' : 'noteHint'}.${move}`, '');
  $('move-confirm').textContent = t('con.move.confirm', { move: moveName(move) });
  if (merge) renderMergeChoices();
}

async function submitMove() {
  const { move, requires } = state.panel || {};
  if (!move) return;
  const text = $('move-reason').value.trim();
  const field = textField(requires);
  const body = { move };
  if (field.required && !text) {
    showFieldError('move-reason', t('con.move.reasonRequired'));
    $('move-reason').focus();
    return;
  }
  if (text) body[field.name] = text;
  showFieldError('move-reason', null);
  if (requires.includes('parent')) {
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
  if (requires.includes('category')) {
    const c = state.current.data.case;
    const category = $('correct-category').value;
    const [lat, lng] = [$('correct-lat').value, $('correct-lng').value].map((v) => v.trim());
    if (category && category !== c.category) body.category = category;
    if (lat || lng) Object.assign(body, { lat: Number(lat), lng: Number(lng), crs: 'wgs84' });
    if (!body.category && !(lat || lng)) {
      showFieldError('correct-category', t('con.correct.nothing'));
      $('correct-category').focus();
      return;
    }
    showFieldError('correct-category', null);
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
    await reload({ text: () => t('con.move.done', { move: moveName(body.move), status: statusName(res.data.case.status) }), tone: 'ok' });
    return;
  }
  handleMoveProblem(res);
}

function handleMoveProblem(res) {
  if (res.status === 409) {
    // The case moved on meanwhile: show it as it is now.
    closePanel();
    reload({ text: () => `${t('con.err.stale')} ${problemText(res.problem)}`, tone: 'error' });
    return;
  }
  sayProblem(res);
  if (res.status !== 422 || state.panel?.kind !== 'move') return;
  // A department error belongs to no box here; otherwise the main case's box before the text's.
  const mine = res.problem.errors.filter((e) => PANEL_FIELDS.includes(e.field));
  if (!mine.length || mine.some((e) => e.field === 'department')) return;
  const correction = mine.some((e) => ['category', 'lat', 'lng', 'crs'].includes(e.field));
  const target = mine.some((e) => e.field === 'parent') ? 'merge-other' : correction ? 'correct-category' : 'move-reason';
  showFieldError(target, mine.map((e) => e.message).join('; '));
  $(target).focus();
}

// ---------- dispatch with the routing suggestion

export async function openDispatch() {
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
  if (res.ok) state.panel.routing = res.data.routing;
  else state.panel.problem = res.problem;
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
    lines.push(el('p', { class: 'strong' }, t('con.dispatch.suggest', { department: departmentName(r.lead) }), ' ',
      el('span', { class: 'mono small', data: { department: r.lead }, text: `(${r.lead})` })));
    lines.push(el('p', { data: { basis: r.basis }, text: t('con.dispatch.basis', { basis: basisText(r) }) }));
    if ((r.helpers || []).length) lines.push(el('p', { text: t('con.dispatch.helpers', { helpers: r.helpers.map(departmentName).join('、') }) }));
  } else if (p.problem) {
    lines.push(el('p', { text: t('con.dispatch.noSuggestion', { problem: problemText(p.problem) }) }));
  }
  if (!p.loading && c.status === 'collected') lines.push(el('p', { text: t('con.dispatch.acceptFirst') }));
  box.replaceChildren(...lines);
  box.classList.toggle('notice-warn', Boolean(p.problem));

  // Every department of the directory, the suggestion first and marked as such.
  const lead = p.routing?.lead;
  const codes = new Set([lead, ...(p.routing?.helpers || []), c.department, ...departments.keys()].filter(Boolean));
  const rest = [...codes].filter((d) => d !== lead).map((d) => [d, departmentName(d)]).sort((x, y) => x[1].localeCompare(y[1], locale()));
  const pairs = lead ? [[lead, t('con.dispatch.suggested', { name: departmentName(lead) })], ...rest] : rest;
  const fallback = lead || categories.get(c.category)?.department || '';
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
      department: departmentName(res.data.case.department),
      delivery: tOr(`con.delivery.${status}`, ''),
    });
    await reload({ text, tone: 'ok' });
    return;
  }
  handleMoveProblem(res);
  if (res.status === 422) $('dispatch-department').focus();
}
