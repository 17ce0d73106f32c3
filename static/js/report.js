// The citizen report page: fill in the form, check it as the server will, send it, and show
// the tracking code. The page's state lives in a few variables below; render functions turn
// it into DOM, so switching the language is just "render again". Data from the server or the
// URL only ever reaches the page through textContent / Option text, never as HTML.

import { t, has, tOr, initI18n, onLangChange, lang } from './i18n.js';
import { request, slugOf } from './api.js';
import { validateReport, buildReport, parseCoord, splitPair, charCount, CRS, LIMITS, CODE_KEYS } from './validate.js';
import { localName, chainText, timeEl } from './format.js';
import { loadRules, checkBody, ruleLimits } from './rules.js';
import { categoryIcon } from './icons.js';
import { downscale, PHOTO_LIMIT } from './photos.js';
import { $, el, showFieldError } from './dom.js';
import { follow, isFollowed, rememberOwn } from './mine.js';
const form = $('report-form');

// Fields in page order; ids equal the API's field names so server errors map one to one.
const FIELDS = ['category', 'description', 'lat', 'lng', 'crs', 'photos', 'address', 'contact_name', 'contact_phone'];
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
let rulesReady = false;          // the wasm rules loaded: check before sending
let photos = [];                 // [{name, data (base64 JPEG), url (object URL for the preview), bytes}]
let photosMsg = null;            // {key, vars} under the photo picker
let assetInfo = null;            // GET /api/assets/{id}, for the QR landing card
let map = null;                  // the map (js/../build/map.js), when it loaded
let shownArea = null;            // the community whose cells the map shows
let servedAreas = [];            // the map's districts, named when a place is outside them
let nearby = null;               // {key, items}: open public reports of the chosen kind near the place
let nearbyCtrl = null;

// ---------- rendering

function selectedCategory() {
  return form.querySelector('input[name="category"]:checked')?.value || '';
}

// Tiles with an icon, grouped by kind as the city-management standard does (components, i.e.
// things, and events), narrowed by the search box; the chosen one always stays in view.
function renderCategories() {
  const box = $('category');
  const keep = selectedCategory() || wantedCategory || '';
  const query = $('category-search').value.trim().toLowerCase();
  const matches = (c) => !query || [c.name_zh, c.name_en, c.code, c.major].some((x) => String(x || '').toLowerCase().includes(query));
  box.replaceChildren();
  const groups = new Map();
  for (const c of categories) {
    if (!matches(c) && c.code !== keep) continue;
    const kind = c.kind === 'component' || c.kind === 'event' ? c.kind : 'other';
    if (!groups.has(kind)) groups.set(kind, []);
    groups.get(kind).push(c);
  }
  for (const kind of ['component', 'event', 'other']) {
    if (!groups.has(kind)) continue;
    box.append(el('p', { class: 'category-group', text: t(`category.group.${kind}`) }));
    for (const c of groups.get(kind)) {
      const radio = el('input', { type: 'radio', name: 'category', value: c.code });
      radio.checked = c.code === keep;
      box.append(el('label', { class: 'category-tile' }, radio, categoryIcon(c.code), el('span', { text: localName(c) })));
    }
  }
  if (categories.some((c) => c.code === keep)) wantedCategory = null;
  const none = categoriesState === 'ok' && !box.querySelector('input');
  $('category-status').textContent = categoriesState === 'failed' ? t('category.failed')
    : categoriesState === 'loading' ? t('category.loading')
      : none ? t('category.none') : '';
  $('category-retry').hidden = categoriesState !== 'failed';
}

function renderCounter() {
  const n = charCount($('description').value.trim());
  const counter = $('description-count');
  const max = ruleLimits()?.description_max ?? LIMITS.descriptionMax;
  counter.textContent = t('report.counter', { n, max });
  counter.classList.toggle('is-over', n > max);
}

// Our words where we have them (in the reader's language), else the rule's own message.
function messageOf(err) {
  return err.key && has(err.key) ? t(err.key, err.vars) : err.text || t('err.server');
}

function renderErrors() {
  for (const field of [...FIELDS, 'location']) showFieldError(field, errors[field] ? messageOf(errors[field]) : null);

  // The summary lists every problem in page order, each a link to its field.
  const order = (f) => { const i = [...FIELDS, 'location'].indexOf(f); return i < 0 ? 99 : i; };
  const entries = Object.entries(errors).sort(([a], [b]) => order(a) - order(b));
  const box = $('error-summary');
  box.hidden = !summaryShown || (!entries.length && !problem);
  $('error-summary-title').textContent = problem ? t(problem.heading.key, problem.heading.vars) : t('summary.title');
  $('error-summary-detail').textContent = problem?.line || '';
  $('error-summary-detail').hidden = !problem?.line;
  const items = entries.map(([field, err]) => {
    const target = FOCUS_TARGET[field] || field;
    const text = t('summary.item', { label: tOr(`field.${field}`, field), message: messageOf(err) });
    // A field this page does not have (e.g. channel) is named without a link.
    return el('li', {}, $(target) ? el('a', { href: `#${target}`, data: { target }, text }) : text);
  });
  $('error-summary-list').replaceChildren(...items);
}

function renderGrid() {
  const box = $('grid-result');
  box.replaceChildren();
  box.classList.toggle('is-warn', grid?.state === 'outside' || grid?.state === 'failed');
  if (!grid) return;
  const line = (text, cls) => box.append(el('p', { class: cls, text }));
  if (grid.state === 'loading') line(t('grid.loading'));
  else if (grid.state === 'failed') line(t('grid.failed'));
  else if (grid.state === 'outside') {
    line(t('grid.outside'), 'strong');
    if (servedAreas.length) line(t('grid.served', { areas: servedAreas.map(localName).join(t('list.sep')) }), 'small');
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
  const card = $('asset-card');
  card.hidden = !asset;
  if (!asset) return;
  $('asset-id').textContent = t('report.asset', { asset });
  if (!assetInfo) {
    $('asset-name').textContent = t('asset.loading');
    return;
  }
  $('asset-name').textContent = assetInfo.name || asset;
  $('asset-place').textContent = chainText(Array.isArray(assetInfo.chain) ? assetInfo.chain : []);
  const buttons = (assetInfo.categories || []).map((c) =>
    el('button', { type: 'button', class: 'category-tile asset-category', data: { code: c.code } },
      categoryIcon(c.code), el('span', { text: localName(c) })));
  $('asset-categories').replaceChildren(...buttons);
}

function renderPhotos() {
  const items = photos.map((p, i) => el('li', {},
    el('img', { src: p.url, alt: t('photos.alt', { n: i + 1 }) }),
    el('span', { class: 'small', text: t('photos.size', { kb: Math.round(p.bytes / 1024) }) }),
    el('button', {
      type: 'button', class: 'btn btn-secondary btn-small', data: { remove: String(i) },
      text: t('photos.remove'), 'aria-label': t('photos.removeLabel', { n: i + 1 }),
    })));
  $('photo-list').replaceChildren(...items);
  $('photos').disabled = photos.length >= PHOTO_LIMIT;
  $('photos-status').textContent = photosMsg ? t(photosMsg.key, photosMsg.vars) : '';
}

// Public reports of the same category near the place, still open: "already reported, follow it?"
const CLOSED = ['closed', 'evaluated', 'rejected', 'merged'];
const NEARBY_RADIUS_M = 300;

function renderNearby() {
  const items = (nearby?.items || []).filter((r) => !CLOSED.includes(r.status));
  $('nearby').hidden = items.length === 0;
  if (!items.length) return;
  $('nearby-title').textContent = t('nearby.title', { n: items.length });
  $('nearby-list').replaceChildren(...items.map((r) => {
    const words = (lang() === 'en' ? r.status_words?.en : r.status_words?.zh) || r.status;
    const followedNow = isFollowed(r.public_id);
    return el('li', { class: 'nearby-item' },
      el('p', { class: 'nearby-what' }, el('span', { class: 'badge', text: words }), ' ', r.description || ''),
      el('p', { class: 'tl-meta' }, t('nearby.since'), ' ', timeEl(r.created_at, { style: 'short' })),
      followedNow
        ? el('p', { class: 'nearby-followed' }, t('nearby.followed'), ' ', el('a', { href: 'track.html#mine', text: t('nearby.mine') }))
        : el('button', {
          type: 'button', class: 'btn btn-secondary btn-small', data: { follow: r.public_id },
          text: t('nearby.follow'), 'aria-label': t('nearby.followLabel', { what: r.description || words }),
        }));
  }));
}

async function loadServedAreas() {
  if (servedAreas.length) return;
  const res = await request('GET', '/grids');
  if (res.ok && Array.isArray(res.data?.items)) servedAreas = res.data.items.filter((a) => a && a.name);
  renderGrid();
}

// After an answer that says nothing of the list (no network, busy, a server error), it is asked
// again this much later, twice at most: the list is what keeps a second report of one problem.
const NEARBY_RETRY_MS = [1000, 3000];

async function refreshNearby(attempt = 0) {
  const category = selectedCategory();
  const point = grid?.state === 'ok' ? grid.data?.point : null;
  if (!category || !point) {
    nearby = null;
    renderNearby();
    return;
  }
  const key = `${category}|${point.lat}|${point.lng}`;
  if (nearby?.key === key) return;
  nearbyCtrl?.abort();
  const ctrl = new AbortController();
  nearbyCtrl = ctrl;
  // The point the lookup answered is WGS-84 whatever the form's system.
  const query = new URLSearchParams({ lat: String(point.lat), lng: String(point.lng), category, radius_m: String(NEARBY_RADIUS_M) });
  let res;
  try {
    // Asked again, not from the browser's copy (public for 30 s): that may be from before a
    // report this device sent a moment ago.
    res = await request('GET', `/public/reports?${query}`, undefined, { signal: ctrl.signal, cache: 'no-cache' });
  } catch {
    return; // a newer place or category is being looked up
  }
  if (ctrl.signal.aborted) return;
  const transient = !res.ok && (res.status === 0 || res.status === 429 || res.status >= 500);
  if (transient && attempt < NEARBY_RETRY_MS.length) {
    setTimeout(() => {
      // Unless a newer place or category is being looked up meanwhile.
      if (nearbyCtrl === ctrl) refreshNearby(attempt + 1);
    }, NEARBY_RETRY_MS[attempt]);
    return;
  }
  // Nothing shown when the list cannot be had: the report goes on as before.
  nearby = { key, items: res.ok && Array.isArray(res.data?.items) ? res.data.items : [] };
  renderNearby();
}

function renderAll() {
  renderNearby();
  renderCategories();
  renderCounter();
  renderErrors();
  renderGrid();
  renderLocate();
  renderAsset();
  renderPhotos();
}

// ---------- reading and checking the form

function readValues() {
  const v = {};
  for (const field of FIELDS) v[field] = field === 'category' ? selectedCategory() : field === 'photos' ? '' : $(field).value;
  v.website = $('website').value;
  v.public = $('public').checked;
  return v;
}

function check(values) {
  return validateReport(values, knownCodes(), rulesReady ? checkBody : null, photos.length);
}

function knownCodes() {
  return categoriesState === 'ok' ? new Set(categories.map((c) => c.code)) : null;
}

// After a field has shown an error, check it again as the person types so the message
// goes away as soon as it is fixed (and not before).
function recheck(field) {
  if (!(field in errors)) return;
  const fresh = check(readValues());
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
  if (res.ok && res.data?.cell) {
    grid = { state: 'ok', data: res.data };
    showOnMap(res.data);
    refreshNearby();
  }
  else if (slugOf(res.problem) === 'outside-jurisdiction') {
    grid = { state: 'outside' };
    loadServedAreas();
  }
  else grid = { state: 'failed' };
  renderGrid();
}

async function submit(event) {
  event.preventDefault();
  if (busy) return;
  const values = readValues();
  errors = check(values);
  problem = null;
  summaryShown = true;
  renderErrors();
  if (Object.keys(errors).length) {
    $('error-summary').focus();
    return;
  }

  setBusy(true);
  const body = buildReport(values, asset ? 'qr' : 'web', asset, photos.map((p) => ({ data: p.data })));
  const res = await request('POST', '/reports', body);
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
  // A known problem is told in the reader's language from its type, and each field's error
  // from its code; the server's own (English) words only where the page has none.
  const words = known.includes(slug) ? [] : p.errors.length ? [p.title] : [p.title, p.detail];
  problem = { heading, line: words.filter(Boolean).join(' — ') };
  for (const { field, message, code } of p.errors) {
    const name = field.replace(/\[\d+\].*$/, ''); // photos[1].data → photos
    const key = code ? `err.${name}.${CODE_KEYS[code] || 'invalid'}` : 'err.server';
    errors[name] = { key, text: message };
  }
  if (slug === 'outside-jurisdiction') {
    errors.location = { key: 'grid.outside' };
    grid = { state: 'outside' };
    loadServedAreas();
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
  // Kept on this device too, so the tracking page can fill it in for the rating later.
  try {
    if (data.secret) localStorage.setItem(`onegrid.secret.${data.tracking_code}`, data.secret);
  } catch { /* private mode: the person keeps it themselves */ }
  rememberOwn(data.tracking_code);
  $('result-public').hidden = !data.public_id;
  $('result-public-id').textContent = data.public_id || '';
  $('result-link').href = `track.html?code=${encodeURIComponent(data.tracking_code)}`;
  const g = data.grid;
  const chain = g ? chainText([...(Array.isArray(g.chain) ? g.chain : []), g]) : '';
  $('result-grid').textContent = chain;
  $('result-grid-line').hidden = !chain;
  $('copy-status').textContent = '';
  $('result-title').focus();
}

// ---------- photos, the asset, the map

// Each photo is downscaled and re-encoded in the browser (photos.js): smaller to send on a
// phone's connection, and the re-encoding leaves the EXIF block, with its GPS position, behind.
async function addPhotos(input) {
  const files = [...input.files];
  input.value = '';
  const room = PHOTO_LIMIT - photos.length;
  const taken = files.slice(0, Math.max(room, 0));
  photosMsg = files.length > room ? { key: 'photos.tooMany', vars: { max: PHOTO_LIMIT } } : { key: 'photos.busy' };
  renderPhotos();
  for (const file of taken) {
    try {
      photos.push(await downscale(file));
    } catch {
      photosMsg = { key: 'photos.unreadable', vars: { name: file.name } };
    }
  }
  if (photosMsg?.key === 'photos.busy') photosMsg = { key: 'photos.ready', vars: { n: photos.length } };
  delete errors.photos;
  renderPhotos();
  renderErrors();
}

function clearPhotos() {
  for (const p of photos) URL.revokeObjectURL(p.url);
  photos = [];
  photosMsg = null;
}

async function loadAsset() {
  if (!asset) return;
  renderAsset();
  const res = await request('GET', `/assets/${encodeURIComponent(asset)}`);
  if (!res.ok) {
    $('asset-name').textContent = t('asset.unknown');
    return;
  }
  assetInfo = res.data;
  const point = assetInfo.point;
  // The place of the thing scanned, unless the person already set one.
  if (point && !$('lat').value && !$('lng').value) {
    $('lat').value = String(point.lat);
    $('lng').value = String(point.lng);
    $('crs').value = 'wgs84';
    lookupGrid();
  }
  if (!selectedCategory() && !wantedCategory && assetInfo.categories?.[0]) {
    wantedCategory = assetInfo.categories[0].code;
    renderCategories();
  }
  renderAsset();
}

// The map is a help, not a requirement: without its bundle or tiles the form works by
// location or typed coordinates.
async function loadMap() {
  let config = {};
  try {
    const res = await fetch('config.json');
    if (res.ok) config = (await res.json()).map || {};
  } catch { /* no configuration: no tiles */ }
  let module;
  try {
    module = await import('../build/map.js');
  } catch {
    return;
  }
  $('map-box').hidden = false;
  map = module.createMap($('map'), {
    tiles: config.tiles,
    attribution: config.attribution,
    label: t('map.label'),
    onPick: (lat, lng) => {
      $('lat').value = lat.toFixed(6);
      $('lng').value = lng.toFixed(6);
      $('crs').value = 'wgs84';
      for (const f of ['lat', 'lng', 'crs', 'location']) delete errors[f];
      renderErrors();
      lookupGrid();
    },
  });
  document.documentElement.dataset.map = config.tiles ? 'tiles' : 'cells';
  if (grid?.state === 'ok') {
    showOnMap(grid.data);
    return;
  }
  // No place yet: show the cells around the map's starting point, so there is something to tap.
  const c = map.map.getCenter();
  const res = await request('GET', `/grid/lookup?lat=${c.lat}&lng=${c.lng}`);
  if (res.ok && grid?.state !== 'ok') showOnMap({ chain: res.data.chain });
}

// The point on WGS-84 (the lookup converts GCJ-02 and BD-09), and the cells of its community.
function showOnMap(data) {
  if (!map) return;
  if (data.point) map.setPoint(data.point.lat, data.point.lng);
  const community = (data.chain || []).find((c) => c.level === 'community');
  if (community) showArea(community.code, !data.point);
}

async function showArea(code, fit = true) {
  if (!map || !code || code === shownArea) return;
  shownArea = code;
  const res = await request('GET', `/grids/${encodeURIComponent(code)}.geojson`);
  if (!res.ok || !res.data) return;
  // Fitted to the area only while nothing is picked: a map that moves under a tap already made
  // (its cells came late, on a slow network) would put the next tap somewhere else.
  map.showCells(res.data, { fit: fit && $('lat').value === '' });
  document.documentElement.dataset.mapArea = code;
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
  nearby = null;
  locateMsg = null;
  clearPhotos();
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
  if (e.target.id === 'category-search') return renderCategories();
  const field = e.target.name === 'category' ? 'category' : e.target.id;
  if (field === 'description') renderCounter();
  if ((field === 'lat' || field === 'lng') && errors.location) {
    delete errors.location; // a place is being given: the "choose the place" error is answered
    renderErrors();
  }
  recheck(field);
});
form.addEventListener('change', (e) => {
  if (e.target.id === 'photos') return addPhotos(e.target);
  const field = e.target.name === 'category' ? 'category' : e.target.id;
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
    if (field === 'category') refreshNearby();
  }
});
$('nearby-list').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-follow]');
  if (!button) return;
  follow(button.dataset.follow);
  renderNearby();
  $('nearby-list').querySelector('.nearby-followed a')?.focus();
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

$('photo-list').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-remove]');
  if (!button) return;
  const [gone] = photos.splice(Number(button.dataset.remove), 1);
  URL.revokeObjectURL(gone.url);
  photosMsg = null;
  delete errors.photos;
  renderPhotos();
  renderErrors();
  $('photos').focus();
});
$('asset-categories').addEventListener('click', (e) => {
  const button = e.target.closest('button[data-code]');
  if (!button) return;
  wantedCategory = button.dataset.code;
  // The tap decides, over a category chosen before.
  for (const radio of form.querySelectorAll('input[name="category"]:checked')) radio.checked = false;
  $('category-search').value = '';
  renderCategories();
  delete errors.category;
  renderErrors();
  $('description').focus();
});
$('map-centre-btn').addEventListener('click', () => map?.pickCentre());

applyPrefill();
loadCategories();
loadAsset();
loadRules().then((ok) => {
  rulesReady = ok;
  document.documentElement.dataset.rules = ok ? 'wasm' : 'server';
  renderCounter();
});
loadMap();
