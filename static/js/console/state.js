// The console's state and its status line. Everything a view shows is kept in `state`, so a
// language switch draws the page again without asking the server; only a move, a reveal or a
// refresh does. Views write results and errors to the one status line, never alert().

import { statusLine } from '../dom.js';
import { t } from '../i18n.js';
import { problemText } from '../staff.js';

export const state = {
  principal: null,
  gridNames: new Map(),    // grid code → chain text
  geo: new Map(),          // grid code → GeoJSON (promise)
  route: null,             // {view: 'queue', params} | {view: 'overdue'} | {view: 'case', id}
  routedHref: null,        // the URL the route was read from
  queue: { key: null, items: [], next: null, params: null, seq: 0 },
  overdue: { red: [], yellow: [], truncated: false, loaded: false, seq: 0 },
  alerts: { items: [], loaded: false, seq: 0 },
  alert: null,             // {id, data} of the open alert
  current: null,           // {id, data, seq} of the open case
  panel: null,             // null | {kind: 'move', move} | {kind: 'dispatch', routing, problem, loading}
  merge: { other: null },  // the case typed in as "another case" for a merge
  lastQueueHash: '#queue',
};

const line = statusLine('console-status');

/** Writes the status line: `message` is a function returning the text, so a language switch can write it again. */
export const say = line.say;
export const rewriteStatus = line.rewrite;

/** A failed answer on the status line. */
export function sayProblem(res) {
  if (res.status === 403) say(() => `${t('con.err.forbidden')} ${problemText(res.problem)}`, 'error');
  else say(() => problemText(res.problem) || `HTTP ${res.status}`, 'error');
}
