// The staff sign-in page: username and password to POST /api/session, then on to the page the
// visitor came from (only a page of this site) or the role's start page.

import './i18n-staff.js';
import { initI18n, t } from './i18n.js';
import { signIn, session, startPage } from './staff.js';
import { $ } from './dom.js';

initI18n();

function nextPage(role) {
  const next = new URLSearchParams(location.search).get('next') || '';
  // Only a relative page of ours: no scheme, no "//host", no backslash tricks.
  return /^[a-z0-9_-]+\.html([?#].*)?$/i.test(next) ? next : startPage(role);
}

const live = session();
if (live) location.replace(nextPage(live.principal.role));

const form = $('signin-form');
const status = $('signin-status');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    status.textContent = t('signin.missing');
    return;
  }
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  status.textContent = t('signin.busy');
  const res = await signIn(username, password);
  button.disabled = false;
  if (res.ok) {
    location.replace(nextPage(res.data.principal.role));
    return;
  }
  form.password.value = '';
  form.password.focus();
  status.textContent =
    res.status === 401 ? t('signin.wrong')
      : res.status === 429 ? t('signin.locked')
        : res.status === 403 ? t('signin.disabled')
          : res.status === 0 ? t('common.network')
            : res.problem.title;
});
