// The operator console (console.html): the incoming queue with its filters (console/queue.js),
// the overdue board (console/overdue.js), the early-warning board and its alerts (console/alerts.js), and one case with its moves and whole audit trail
// (console/case.js, panels.js, merge.js, audit.js). This entry signs in, reads the directory,
// and routes by the hash: #queue?filters, #overdue, #alerts, #alert/ID, #case/ID. A language switch draws the
// current view again from `state`, without asking the server.

import './i18n-console.js';
import { t, initI18n, onLangChange } from './i18n.js';
import { $ } from './dom.js';
import { requireStaff, staffBar } from './staff.js';
import { loadDirectory } from './staff-case.js';
import { state, sayProblem, rewriteStatus } from './console/state.js';
import { INCOMING, wireQueue, showQueue, renderQueue, renderFilterOptions } from './console/queue.js';
import { wireOverdue, loadOverdue, renderOverdue } from './console/overdue.js';
import { wireCase, loadCase, renderCase } from './console/case.js';
import { closePanel, renderPanel } from './console/panels.js';
import { wireAlerts, loadAlerts, renderAlerts, loadAlert, renderAlert } from './console/alerts.js';

const ROLES = ['city_operator', 'district_operator', 'street_operator', 'admin'];
const VIEWS = ['queue', 'overdue', 'alerts', 'alert', 'case'];
const TABS = ['queue', 'overdue', 'alerts'];

async function start() {
  state.principal = await requireStaff(ROLES);
  staffBar(state.principal);
  initI18n();
  wireQueue();
  wireOverdue();
  wireAlerts();
  wireCase();
  const failed = await loadDirectory();
  for (const res of failed) sayProblem(res);
  renderFilterOptions();
  window.addEventListener('hashchange', route);
  // Going to the very URL already shown (a link to the open case, a bookmark) changes no hash,
  // so no hashchange fires, only popstate: read the view again, as a reload would.
  window.addEventListener('popstate', () => {
    if (location.href === state.routedHref) route();
  });
  onLangChange(() => {
    staffBar(state.principal);
    renderFilterOptions();
    renderAll();
    rewriteStatus();
  });
  route();
}

function parseHash() {
  const hash = location.hash.replace(/^#/, '');
  if (hash.startsWith('case/')) return { view: 'case', id: decodeURIComponent(hash.slice(5)) };
  if (hash === 'overdue') return { view: 'overdue' };
  if (hash === 'alerts') return { view: 'alerts' };
  if (hash.startsWith('alert/')) return { view: 'alert', id: decodeURIComponent(hash.slice(6)) };
  const query = hash.startsWith('queue?') ? hash.slice(6) : null;
  // A bare #queue (or no hash) is the incoming queue: cases waiting for acceptance.
  return { view: 'queue', params: new URLSearchParams(query ?? INCOMING) };
}

function route() {
  const previous = state.route?.view;
  const r = parseHash();
  state.route = r;
  state.routedHref = location.href;
  for (const view of VIEWS) $(`view-${view}`).hidden = view !== r.view;
  for (const view of TABS) {
    if (r.view === view || (view === 'alerts' && r.view === 'alert')) $(`tab-${view}`).setAttribute('aria-current', 'page');
    else $(`tab-${view}`).removeAttribute('aria-current');
  }
  if (r.view !== 'case' && r.view !== 'alert') {
    closePanel();
    document.title = t('con.title');
  }
  // A new view takes the focus to its heading, so keyboard and screen-reader users start there
  // (the link they used may just have been hidden). The case view does so once it is loaded.
  if (previous && previous !== r.view && r.view !== 'case' && r.view !== 'alert') $(`${r.view}-heading`).focus();
  if (r.view === 'queue') {
    state.lastQueueHash = location.hash || '#queue';
    showQueue(r.params);
  } else if (r.view === 'overdue') {
    state.lastQueueHash = '#overdue';
    loadOverdue();
  } else if (r.view === 'alerts') {
    state.lastQueueHash = '#alerts';
    loadAlerts();
  } else if (r.view === 'alert') {
    closePanel();
    loadAlert(r.id);
  } else {
    $('case-back').href = state.lastQueueHash;
    renderBackLink();
    loadCase(r.id);
  }
}

/** The case's way back: to the board or the queue it was opened from. */
function renderBackLink() {
  const board = { '#overdue': 'con.tab.overdue', '#alerts': 'con.tab.alerts' }[state.lastQueueHash];
  $('case-back').textContent = board ? `← ${t(board)}` : t('con.case.back');
}

function renderAll() {
  const r = state.route;
  if (!r) return;
  if (r.view === 'queue') renderQueue();
  else if (r.view === 'overdue') renderOverdue();
  else if (r.view === 'alerts') renderAlerts();
  else if (r.view === 'alert') renderAlert();
  else if (state.current?.data) {
    renderBackLink();
    renderCase();
    renderPanel();
  }
}

start();
