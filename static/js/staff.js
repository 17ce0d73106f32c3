// Staff pages' session: sign-in with POST /api/session, the token kept in sessionStorage (gone
// when the tab closes; never in a cookie, so no CSRF surface), every call with Bearer auth.
// A page calls requireStaff() first: without a live session it goes to signin.html and comes
// back after. A 401 from any call (expired, signed out elsewhere, account disabled) does too.

import { request, send, toProblem } from './api.js';
import { $, el } from './dom.js';
import './i18n-staff.js';
import { t, initI18n } from './i18n.js';

const KEY = 'onegrid.staff';

/** Which staff page each role starts on, and which pages it may open. */
export const PAGES = {
  city_operator: ['console.html', 'dashboard.html'],
  district_operator: ['console.html', 'dashboard.html'],
  street_operator: ['console.html', 'dashboard.html'],
  department: ['desk.html'],
  grid_worker: ['desk.html'],
  admin: ['console.html', 'dashboard.html'],
};

/** The stored session {token, expires_at, principal}, or null when none is live. */
export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    if (s && typeof s.token === 'string' && Date.parse(s.expires_at) > Date.now()) return s;
  } catch {
    // a damaged entry is no session
  }
  sessionStorage.removeItem(KEY);
  return null;
}

function toSignIn() {
  const here = location.pathname.replace(/^\//, '') + location.search + location.hash;
  location.replace(`signin.html?next=${encodeURIComponent(here)}`);
}

/**
 * The signed-in principal {role, id, name, area, department, cells}, or a redirect to the
 * sign-in page (the returned promise then never settles, so the page does nothing more).
 * `roles`: the roles this page is for; any other role goes to its own start page.
 */
export async function requireStaff(roles) {
  const s = session();
  if (!s) {
    toSignIn();
    return new Promise(() => {});
  }
  if (roles && !roles.includes(s.principal.role)) {
    location.replace(startPage(s.principal.role));
    return new Promise(() => {});
  }
  return s.principal;
}

export function startPage(role) {
  return (PAGES[role] || ['signin.html'])[0];
}

/** Signs in; resolves to {ok, problem} and keeps the session when ok. */
export async function signIn(username, password) {
  const res = await request('POST', '/session', { username, password });
  if (res.ok) sessionStorage.setItem(KEY, JSON.stringify(res.data));
  return res;
}

export async function signOut() {
  const s = session();
  sessionStorage.removeItem(KEY);
  if (s) await staffFetch('DELETE', '/session', undefined, { token: s.token, quiet: true });
  location.replace('signin.html');
}

/**
 * A staff API call: like api.js's request() ({ok, status, data, problem}), with the session's
 * Bearer token. A 401 ends the session and goes to sign-in.
 */
export async function staffFetch(method, path, body, { token, quiet, accept } = {}) {
  const headers = { Authorization: `Bearer ${token || session()?.token}` };
  if (accept) headers.Accept = accept;
  const res = await send(method, path, body, { headers });
  if (!res) return { ok: false, status: 0, data: null, problem: { ...toProblem(null), title: t('common.network') } };
  if (res.status === 401 && !quiet) {
    sessionStorage.removeItem(KEY);
    toSignIn();
    return new Promise(() => {});
  }
  const isJson = (res.headers.get('content-type') || '').includes('json');
  let data = null;
  if (res.status !== 204) data = isJson ? await res.json().catch(() => null) : await res.text();
  if (res.ok) return { ok: true, status: res.status, data, problem: null };
  return { ok: false, status: res.status, data: null, problem: toProblem(data) };
}

/** A problem as one line for a status area. */
export function problemText(problem) {
  const fields = (problem.errors || []).map((e) => `${e.field}: ${e.message}`).join('; ');
  return [problem.title, problem.detail, fields].filter(Boolean).join(' — ');
}

/** Fills the staff bar (<div id="staff-bar">): the pages this role may open, who is signed in, sign-out. */
export function staffBar(principal) {
  initI18n();
  const bar = $('staff-bar');
  if (!bar) return;
  const nav = el('nav', { class: 'site-nav', 'aria-label': t('staff.nav') },
    ...(PAGES[principal.role] || []).map((page) => el('a', {
      href: page,
      'aria-current': location.pathname.endsWith(page) ? 'page' : null,
      text: t(`staff.page.${page.replace('.html', '')}`),
    })));
  const who = el('span', { class: 'staff-who', text: `${principal.name} · ${t(`role.${principal.role}`)}` });
  const out = el('button', { type: 'button', class: 'btn btn-secondary btn-small', id: 'sign-out', text: t('staff.signOut') });
  out.addEventListener('click', signOut);
  bar.replaceChildren(nav, who, out);
}
