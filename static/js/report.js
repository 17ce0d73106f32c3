// The citizen report page: fill in the form, check it as the server will, send it, and show
// the tracking code. The page's state lives in a few variables below; render functions turn
// it into DOM, so switching the language is just "render again". Data from the server or the
// URL only ever reaches the page through textContent / Option text, never as HTML.

import { t, has, initI18n, onLangChange } from './i18n.js';
import { request, slugOf } from './api.js';
import { validateReport, buildReport, parseCoord, splitPair, charCount, CRS, LIMITS } from './validate.js';
import { localName, chainText } from './format.js';

const $ = (id) => document.getElementById(id);
const form = $('report-form');

// Fields in page order; ids equal the API's field names so server errors map one to one.
const FIELDS = ['category', 'description', 'lat', 'lng', 'crs', 'address', 'contact_name', 'contact_phone'];
// Where a summary link for an error should take the reader.
const FOCUS_TARGET = { location: 'lat' };

const params = new URLSearchParams(location.search);
// A QR code on an asset opens this page with ?asset=ID; the report then comes from the "qr" channel.
const asset = (params.get('asset') || '').trim().slice(0, 64);

let categories = [];
let categoriesState = 'loading'; // loading | ok | failed
let wantedCategory = null;       // from ?category=, applied once the list has arrived
let errors = {};                 // field → {key, vars} (ours) or {text} (the server's words)
let problem = null;              // {heading: {key, vars}, line} for the summary, after a failed send
let summaryShown = false;
let grid = null;                 // null | {state: 'loading'|'ok'|'outside'|'failed', data, detail}
let locateMsg = null;            // {key, vars} under the "use my location" button
let lookupCtrl = null;
let busy = false;

// ---------- rendering

function renderCategories() {
  const select = $('category');
  const keep = select.value || wantedCategory || '';
  const placeholder = categoriesState === 'ok' ? 'category.choose' : 'category.loading';
  select.replaceChildren(new Option(t(placeholder), ''));
  // Group by kind as the city-management standard does: components (things) and events.
  const groups = new Map();
  for (const c of categories) {
    const kind = c.kind === 'component' || c.kind === 'event' ? c.kind : 'other';
    if (!groups.has(kind)) groups.set(kind, []);
    groups.get(kind).push(c);
  }
  for (const kind of ['component', 'event', 'other']) {
    if (!groups.has(kind)) continue;
    const group = document.createElement('optgroup');
    group.label = t(`category.group.${kind}`);
    for (const c of groups.get(kind)) group.append(new Option(localName(c), c.code));
    select.append(group);
  }
  if (categories.some((c) => c.code === keep)) {
    select.value = keep;
    wantedCategory = null;
  }
  $('category-status').textContent = categoriesState === 'failed' ? t('category.failed') : '';
  $('category-retry').hidden = categoriesState !== 'failed';
}

function renderCounter() {
  const n = charCount($('description').value.trim());
  const counter = $('description-count');
  counter.textContent = t('report.counter', { n });
  counter.classList.toggle('is-over', n > LIMITS.descriptionMax);
}

function messageOf(err) {
  return err.text || t(err.key, err.vars);
}

function renderErrors() {
  for (const field of [...FIELDS, 'location']) {
    const out = $(`${field}-error`);
    const err = errors[field];
    out.textContent = err ? messageOf(err) : '';
    out.hidden = !err;
    const input = $(field);
    if (input) {
      if (err) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
  }

  // The summary lists every problem in page order, each a link to its field.
  const order = (f) => { const i = [...FIELDS, 'location'].indexOf(f); return i < 0 ? 99 : i; };
  const entries = Object.entries(errors).sort(([a], [b]) => order(a) - order(b));
  const box = $('error-summary');
  box.hidden = !summaryShown || (!entries.length && !problem);
  $('error-summary-title').textContent = problem ? t(problem.heading.key, problem.heading.vars) : t('summary.title');
  $('error-summary-detail').textContent = problem?.line || '';
  $('error-summary-detail').hidden = !problem?.line;
  const items = entries.map(([field, err]) => {
    const li = document.createElement('li');
    const target = FOCUS_TARGET[field] || field;
    const label = has(`field.${field}`) ? t(`field.${field}`) : field;
    const text = t('summary.item', { label, message: messageOf(err) });
    if ($(target)) {
      const a = document.createElement('a');
      a.href = `#${target}`;
      a.dataset.target = target;
      a.textContent = text;
      li.append(a);
    } else {
      li.textContent = text; // a field this page does not have (e.g. channel)
    }
    return li;
  });
  $('error-summary-list').replaceChildren(...items);
}

function renderGrid() {
  const box = $('grid-result');
  box.replaceChildren();
  box.classList.toggle('is-warn', grid?.state === 'outside' || grid?.state === 'failed');
  if (!grid) return;
  const line = (text, cls) => {
    const p = document.createElement('p');
    if (cls) p.className = cls;
    p.textContent = text;
    box.append(p);
  };
  if (grid.state === 'loading') line(t('grid.loading'));
  else if (grid.state === 'failed') line(t('grid.failed'));
  else if (grid.state === 'outside') {
    line(t('grid.outside'), 'strong');
    if (grid.detail) line(grid.detail, 'small');
  } else {
    const { cell = {}, chain = [], match, distance_m: distance } = grid.data || {};
    const name = cell.name || cell.code || '';
    const key = match === 'nearest' ? 'grid.nearest' : 'grid.inside';
    line(t(key, { name, m: Math.round(Number(distance) || 0) }), 'strong');
    if (chain.length) line(chainText(chain));
    if (cell.code) line(t('grid.code', { code: cell.code }), 'small');
  }
}

function renderLocate() {
  $('locate-status').textContent = locateMsg ? t(locateMsg.key, locateMsg.vars) : '';
}

function renderAsset() {
  $('asset-note').hidden = !asset;
  if (asset) $('asset-note').textContent = t('report.asset', { asset });
}

function renderAll() {
  renderCategories();
  renderCounter();
  renderErrors();
  renderGrid();
  renderLocate();
  renderAsset();
}

// ---------- reading and checking the form

function readValues() {
  const v = {};
  for (const field of FIELDS) v[field] = $(field).value;
  return v;
}

function knownCodes() {
  return categoriesState === 'ok' ? new Set(categories.map((c) => c.code)) : null;
}

// After a field has shown an error, check it again as the person types so the message
// goes away as soon as it is fixed (and not before).
function recheck(field) {
  if (!(field in errors)) return;
  const fresh = validateReport(readValues(), knownCodes());
  if (fresh[field]) errors[field] = fresh[field];
  else delete errors[field];
  renderErrors();
}

// ---------- talking to the server

async function loadCategories() {
  categoriesState = 'loading';
  renderCategories();
  const res = await request('GET', '/categories');
  if (res.ok && Array.isArray(res.data)) {
    categories = res.data.filter((c) => c && typeof c.code === 'string');
    categoriesState = 'ok';
  } else {
    categoriesState = 'failed';
  }
  renderCategories();
}

async function lookupGrid() {
  lookupCtrl?.abort();
  const lat = parseCoord($('lat').value);
  const lng = parseCoord($('lng').value);
  if (lat === null || lng === null || Math.abs(lat) > 90 || Math.abs(lng) > 180) {
    grid = null;
    renderGrid();
    return;
  }
  const ctrl = new AbortController();
  lookupCtrl = ctrl;
  grid = { state: 'loading' };
  renderGrid();
  const query = new URLSearchParams({ lat: String(lat), lng: String(lng), crs: $('crs').value });
  let res;
  try {
    res = await request('GET', `/grid/lookup?${query}`, undefined, { signal: ctrl.signal });
  } catch {
    return; // cancelled: a newer lookup for a newer point is on its way
  }
  if (ctrl.signal.aborted) return;
  if (res.ok && res.data?.cell) grid = { state: 'ok', data: res.data };
  else if (slugOf(res.problem) === 'outside-jurisdiction') grid = { state: 'outside', detail: res.problem.detail };
  else grid = { state: 'failed' };
  renderGrid();
}

async function submit(event) {
  event.preventDefault();
  if (busy) return;
  const values = readValues();
  errors = validateReport(values, knownCodes());
  problem = null;
  summaryShown = true;
  renderErrors();
  if (Object.keys(errors).length) {
    $('error-summary').focus();
    return;
  }

  setBusy(true);
  const res = await request('POST', '/reports', buildReport(values, asset ? 'qr' : 'web', asset));
  setBusy(false);
  if (res.ok && res.data?.tracking_code) {
    showResult(res.data);
    return;
  }
  applyFailure(res);
  renderErrors();
  if (grid?.state === 'outside') renderGrid();
  $('error-summary').focus();
}

// Turns a failed answer into the summary heading, the server's own words, and inline errors.
function applyFailure(res) {
  if (res.status === 0) {
    problem = { heading: { key: 'common.network' }, line: '' };
    return;
  }
  const p = res.problem;
  const slug = slugOf(p);
  const known = ['validation-failed', 'outside-jurisdiction', 'rate-limited', 'body-too-large', 'internal'];
  const heading = known.includes(slug) ? { key: `problem.${slug}` } : { key: 'problem.generic', vars: { status: res.status } };
  // With a list of field errors the detail only repeats them, so show the title alone.
  const words = p.errors.length ? [p.title] : [p.title, p.detail];
  problem = { heading, line: words.filter(Boolean).join(' — ') };
  for (const { field, message } of p.errors) errors[field] = message ? { text: message } : { key: 'err.server' };
  if (slug === 'outside-jurisdiction') {
    errors.location = { key: 'grid.outside' };
    grid = { state: 'outside', detail: p.detail };
  }
}

function setBusy(on) {
  busy = on;
  const button = $('submit-btn');
  button.setAttribute('aria-busy', String(on));
  button.disabled = on;
  const [idle, working] = button.querySelectorAll('span');
  idle.hidden = on;
  working.hidden = !on;
}

function showResult(data) {
  form.hidden = true;
  $('error-summary').hidden = true;
  $('result').hidden = false;
  $('result-code').textContent = data.tracking_code;
  $('result-secret').textContent = data.secret || '';
  $('result-secret-box').hidden = !data.secret;
  $('result-link').href = `track.html?code=${encodeURIComponent(data.tracking_code)}`;
  const g = data.grid;
  const chain = g ? chainText([...(Array.isArray(g.chain) ? g.chain : []), g]) : '';
  $('result-grid').textContent = chain;
  $('result-grid-line').hidden = !chain;
  $('copy-status').textContent = '';
  $('result-title').focus();
}

// ---------- start over, prefill, geolocation

function applyPrefill() {
  wantedCategory = params.get('category');
  const lat = params.get('lat');
  const lng = params.get('lng');
  if (lat && lng) {
    $('lat').value = lat;
    $('lng').value = lng;
    if (CRS.includes(params.get('crs'))) $('crs').value = params.get('crs');
    lookupGrid();
  }
}

function startOver() {
  form.reset();
  // The secret must not linger in the page once the person has moved on.
  $('result-secret').textContent = '';
  $('result').hidden = true;
  form.hidden = false;
  errors = {};
  problem = null;
  summaryShown = false;
  grid = null;
  locateMsg = null;
  applyPrefill();
  renderAll();
  $('page-heading').focus();
}

function locate() {
  if (!('geolocation' in navigator)) return setLocate('locate.unsupported');
  if (!window.isSecureContext) return setLocate('locate.insecure');
  const button = $('locate-btn');
  if (button.getAttribute('aria-busy') === 'true') return;
  button.setAttribute('aria-busy', 'true');
  setLocate('locate.busy');
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      button.setAttribute('aria-busy', 'false');
      // Browsers give WGS-84; six decimals is about 0.1 m, finer than any phone fix.
      $('lat').value = pos.coords.latitude.toFixed(6);
      $('lng').value = pos.coords.longitude.toFixed(6);
      $('crs').value = 'wgs84';
      for (const f of ['lat', 'lng', 'crs', 'location']) delete errors[f];
      renderErrors();
      setLocate('locate.ok', { m: Math.round(pos.coords.accuracy) });
      lookupGrid();
    },
    (err) => {
      button.setAttribute('aria-busy', 'false');
      const keys = { 1: 'locate.denied', 2: 'locate.unavailable', 3: 'locate.timeout' };
      setLocate(keys[err.code] || 'locate.unavailable');
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

function setLocate(key, vars) {
  locateMsg = { key, vars };
  renderLocate();
}

async function copyFrom(button) {
  const source = $(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(source.textContent);
    $('copy-status').textContent = t('common.copied');
  } catch {
    // No clipboard (older browser, or not HTTPS): select the text so a long-press copies it.
    getSelection().selectAllChildren(source);
    $('copy-status').textContent = t('common.copyFailed');
  }
}

// ---------- wiring

initI18n();
onLangChange(renderAll);
renderAll();

form.addEventListener('submit', submit);
form.addEventListener('input', (e) => {
  const field = e.target.id;
  if (field === 'description') renderCounter();
  if (field === 'lat' || field === 'lng') delete errors.location;
  recheck(field);
});
form.addEventListener('change', (e) => {
  const field = e.target.id;
  if (field === 'lat') {
    // A pasted "24.48, 118.09" fills both boxes.
    const pair = splitPair($('lat').value);
    if (pair) [$('lat').value, $('lng').value] = pair;
  }
  if (field === 'lat' || field === 'lng' || field === 'crs') {
    ['lat', 'lng', 'crs'].forEach(recheck); // a pasted pair may have fixed both boxes
    lookupGrid();
  } else {
    recheck(field);
  }
});

$('error-summary').addEventListener('click', (e) => {
  const link = e.target.closest('a[data-target]');
  if (!link) return;
  e.preventDefault(); // the default jump would scroll but not reliably focus the field
  $(link.dataset.target).focus();
});
$('category-retry').addEventListener('click', loadCategories);
$('locate-btn').addEventListener('click', locate);
$('another-btn').addEventListener('click', startOver);
$('result').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-copy]');
  if (button) copyFrom(button);
});

applyPrefill();
loadCategories();
