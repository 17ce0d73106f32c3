// The audit trail of the open case: every event oldest first, with who made it (a staff member by
// name, a department by its name), the status it led to, and its details in words: reasons,
// notes, routing, deadlines, grid placement, duplicates and photos (fetched with the token).

import { t, tOr } from '../i18n.js';
import { $, el } from '../dom.js';
import { timeEl } from '../format.js';
import { categoryName, departmentName, evidencePhoto } from '../staff-case.js';
import { state } from './state.js';
import { keyed, statusName, levelName, caseLink, basisText } from './labels.js';

export function renderAudit(events) {
  const items = [...events].sort((a, b) => a.seq - b.seq).map((e, i, all) => {
    const li = el('li', { class: `tl-item${i === all.length - 1 ? ' tl-current' : ''}`, data: { seq: e.seq, type: e.type } },
      timeEl(e.at, { city: true }),
      el('p', { class: 'tl-what', text: keyed('con.audit.type', e.type) }));
    const meta = [];
    if (e.from_status && e.from_status !== e.status) meta.push(t('con.audit.transition', { from: statusName(e.from_status), to: statusName(e.status) }));
    else if (!e.from_status) meta.push(statusName(e.status));
    meta.push(t('con.audit.actor', { role: keyed('con.role', e.actor_role), id: actorName(e) }).trim());
    if (e.channel) meta.push(t('con.audit.channel', { channel: keyed('channel', e.channel) }));
    li.append(el('p', { class: 'tl-meta', text: meta.join(' · ') }));
    for (const line of detailLines(e.details || {})) li.append(line);
    return li;
  });
  if (!items.length) items.push(el('li', { class: 'hint', text: t('con.audit.empty') }));
  $('audit-trail').replaceChildren(...items);
}

/**
 * Who made a move, as the trail shows them: a staff account by its display name (the case
 * answer's `actors`), a department by its name, anyone else by the id the trail records.
 */
function actorName(e) {
  if (!e.actor || e.actor === e.actor_role) return '';
  const name = state.current?.data?.actors?.[e.actor];
  if (name) return name;
  return e.actor_role === 'department' ? departmentName(e.actor) : e.actor;
}

/** The details of an event as lines: the known ones in words, any other as key: value. */
function detailLines(d) {
  const lines = [];
  const line = (...children) => lines.push(el('p', { class: 'tl-note' }, ...children));
  const used = new Set();
  const take = (key) => { used.add(key); return d[key]; };
  if (take('reason')) line(t('con.audit.d.reason', { v: d.reason }));
  if (take('note')) line(t('con.audit.d.note', { v: d.note }));
  if (take('department')) line(t('con.audit.d.department', { v: departmentName(d.department) }));
  if (take('helpers')?.length) line(t('con.audit.d.helpers', { v: d.helpers.map(departmentName).join('、') }));
  if (take('routing')) {
    const r = d.routing;
    line(t('con.audit.d.routing', { v: `${basisText(r)} → ${departmentName(r.lead)}` }));
  }
  if (take('parent')) line(t('con.audit.d.parent'), caseLink({ id: d.parent }));
  if (take('deadline')) line(t('con.audit.d.deadline'), timeEl(d.deadline, { city: true }));
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
    line(t('con.audit.d.duplicates'), ...dupIds.flatMap((id, i) => [i ? '、' : '', caseLink({ id })]));
  }
  const corrected = take('corrected');
  if (corrected) {
    // What a correction changed, in the trail's words: only the parts that changed.
    const was = corrected.from || {};
    const now = corrected.to || {};
    if (now.category) line(t('con.audit.d.correctedCategory', { from: categoryName(was.category), to: categoryName(now.category) }));
    if (now.grid) line(t('con.audit.d.correctedPlace', { from: was.grid, to: now.grid }));
  }
  const evidence = take('evidence');
  if (Array.isArray(evidence) && evidence.length) {
    lines.push(el('p', { class: 'tl-note', text: t('con.audit.d.evidence') }));
    lines.push(el('div', { class: 'photos' }, ...evidence.map(evidenceItem)));
  }
  for (const [key, value] of Object.entries(d)) {
    if (used.has(key) || value == null || value === '' || (Array.isArray(value) && !value.length)) continue;
    line(t('con.audit.d.other', { k: tOr(`con.audit.k.${key}`, key), v: typeof value === 'object' ? JSON.stringify(value) : value }));
  }
  return lines;
}

/** A photo of the trail, or the link a department sent instead of one. */
function evidenceItem(item) {
  if (!item.href) {
    const url = /^https?:\/\//i.test(item.url || '') ? item.url : null;
    return el('p', { class: 'photo-link' }, url
      ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text: t('con.photo.link', { url }) })
      : String(item.url || ''), item.caption ? ` — ${item.caption}` : '');
  }
  const alt = item.caption ? t('con.photo.altCaption', { caption: item.caption }) : t('con.photo.alt');
  const img = el('img', { alt, loading: 'lazy', width: '160', height: '120' });
  const link = el('a', { class: 'photo', target: '_blank', rel: 'noopener' }, img);
  const figure = el('figure', { class: 'photo-figure' }, link, item.caption ? el('figcaption', { text: item.caption }) : null);
  evidencePhoto(item.href).then((url) => {
    if (url) {
      img.src = url;
      link.href = url;
    } else {
      figure.replaceChildren(el('p', { class: 'error-msg', text: t('con.photo.failed') }));
    }
  });
  return figure;
}
