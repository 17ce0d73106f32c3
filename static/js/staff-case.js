// What the console and the desk both show of cases: the names of categories and departments
// (the directory, loaded once a page), the moves the server allows and what each needs, a step's
// light and time left, and the staff-only photos of a trail. The state machine's rules come from
// the server's answer (GET /api/cases/{id} → `moves`); the pages keep no copy of its table.

import './i18n-staff.js';
import { t } from './i18n.js';
import { el } from './dom.js';
import { localName } from './format.js';
import { staffFetch, session } from './staff.js';

// ---------- the directory: categories and departments by code

/** code → category (GET /api/categories) and code → {code, name, …} (GET /api/departments). */
export const categories = new Map();
export const departments = new Map();

/** Loads both lists; resolves to the failed answers (none when both came), for the page to report. */
export async function loadDirectory() {
  const [cats, depts] = await Promise.all([staffFetch('GET', '/categories'), staffFetch('GET', '/departments')]);
  if (cats.ok && Array.isArray(cats.data)) for (const c of cats.data) categories.set(c.code, c);
  if (depts.ok && Array.isArray(depts.data?.items)) for (const d of depts.data.items) departments.set(d.code, d);
  return [cats, depts].filter((res) => !res.ok);
}

/** A category's name in the current language; its code until the list is in. */
export function categoryName(code) {
  return localName(categories.get(code)) || code || '';
}

/** A department's name from the directory; its code until (or unless) the directory has it. */
export function departmentName(code) {
  if (!code) return '';
  return departments.get(code)?.name || code;
}

// ---------- moves

/**
 * What `move` needs, as the case answer's `moves` says ([{move, requires, evidence}]):
 * `requires`, the fields the move must carry ("reason", "note", "parent", "department",
 * "hours"); `evidence`, whether it may carry photos. A move not listed needs nothing.
 */
export function moveRule(answer, move) {
  const rule = (Array.isArray(answer?.moves) ? answer.moves : []).find((m) => m?.move === move);
  return {
    requires: Array.isArray(rule?.requires) ? rule.requires : [],
    evidence: rule?.evidence === true,
  };
}

// ---------- deadlines

/** A light as a badge with a shape and a word, never the colour alone ("none": no deadline). */
export function lightBadge(light, label) {
  return el('span', { class: `light light-${light}`, data: { light } },
    el('span', { class: 'light-dot', 'aria-hidden': 'true' }),
    el('span', { class: 'light-text', text: label }));
}

/** A span of time in words, "2 h 15 min", from milliseconds (either sign), at least a minute. */
export function duration(ms) {
  const minutes = Math.max(1, Math.round(Math.abs(ms) / 60000));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  if (d > 0) return t('staff.dur.dh', { d, h });
  if (h > 0) return t('staff.dur.hm', { h, m: minutes % 60 });
  return t('staff.dur.m', { m: minutes });
}

// ---------- photos

// The evidence route wants the Bearer token, so photos are fetched and shown from blob: URLs,
// kept while their case is open. `generation` tells a photo that arrives after its case closed.
const photoUrls = new Map(); // href → Promise of a blob: URL or null
let generation = 0;

/** A photo of the trail as a blob: URL (null if it cannot be had); only our own /api/ routes get the token. */
export function evidencePhoto(href) {
  if (typeof href !== 'string' || !href.startsWith('/api/')) return Promise.resolve(null);
  if (!photoUrls.has(href)) photoUrls.set(href, fetchPhoto(href, generation));
  return photoUrls.get(href);
}

async function fetchPhoto(href, born) {
  try {
    const res = await fetch(href, { headers: { Authorization: `Bearer ${session()?.token}` } });
    if (!res.ok) return null;
    const url = URL.createObjectURL(await res.blob());
    if (born === generation) return url;
    URL.revokeObjectURL(url); // its case was closed meanwhile
  } catch {
    // no photo: the page says so
  }
  return null;
}

/** Lets go of every photo (another case opens). */
export async function forgetEvidencePhotos() {
  generation += 1;
  const pending = [...photoUrls.values()];
  photoUrls.clear();
  for (const url of await Promise.all(pending)) if (url) URL.revokeObjectURL(url);
}
