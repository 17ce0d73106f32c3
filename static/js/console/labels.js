// How the console names and marks things: statuses, levels, steps and moves in words, status and
// light badges, links to cases, a routing decision's basis. Words come from i18n-console.js; a
// code it has no words for shows itself.

import { t, tOr } from '../i18n.js';
import { el } from '../dom.js';
import { statusTone } from '../format.js';
import { categoryName, lightBadge as staffLightBadge } from '../staff-case.js';

export const STATUSES = ['collected', 'accepted', 'rejected', 'merged', 'dispatched', 'signed_for', 'returned',
  'in_progress', 'extension_requested', 'handled', 'verified', 'rework', 'closed', 'evaluated'];
export const LEVELS = ['city', 'district', 'street']; // the board shows the highest level first
export const LIGHTS = ['red', 'yellow', 'green'];

export const keyed = (prefix, value) => tOr(`${prefix}.${value}`, String(value ?? ''));
export const statusName = (s) => keyed('con.status', s);
export const levelName = (l) => keyed('con.level', l);
export const stepName = (s) => keyed('con.step', s);
export const moveName = (m) => keyed('con.move', m);
export const lightName = (l) => t(`con.light.${l}`);

export function statusBadge(status) {
  return el('span', { class: `badge badge-small badge-${statusTone(status)}`, data: { status }, text: statusName(status) });
}

/** The light as a badge with a shape and a word; '—' for a case without a deadline. */
export function lightBadge(light) {
  if (!light) return document.createTextNode('—');
  return staffLightBadge(light, lightName(light));
}

/** A link to a case's page, by its tracking code (or its id when that is all there is). */
export function caseLink(c) {
  return el('a', { href: `#case/${encodeURIComponent(c.id)}`, class: 'mono', text: c.tracking_code || c.id });
}

/** A table cell with the case's category over its grid code. */
export function categoryCell(c) {
  return el('td', { class: 'cell-category' }, categoryName(c.category), el('br'),
    el('span', { class: 'mono hint-inline', text: c.grid_code }));
}

export function truncate(text, n) {
  const s = String(text ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** Why routing chose a department: a rule (by position and version), or a default. */
export function basisText(r) {
  if (!r) return '';
  if (r.basis === 'rule' && r.rule) return t('con.basis.rule', { position: r.rule.position + 1, version: r.rule.version });
  return keyed('con.basis', r.basis);
}
