// Merging a case into another: choose the main case (a probable duplicate, or any case by id),
// compare the two side by side, and see both on a small map of the cells around them, so the
// operator merges only what is truly the same problem.

import { t } from '../i18n.js';
import { $, el, svgEl, showFieldError } from '../dom.js';
import { formatTime, timeEl } from '../format.js';
import { staffFetch, problemText } from '../staff.js';
import { categoryName } from '../staff-case.js';
import { bounds, fit, pathData, polygonsOf } from '../cellmap.js';
import { state } from './state.js';
import { statusName, statusBadge, caseLink } from './labels.js';

const EARTH_RADIUS_M = 6371008.8; // the mean radius (IUGG)
const MAP_WIDTH = 400;
const MAP_HEIGHT = { max: 300, min: 160 };

/** Metres between two WGS-84 points {lat, lng} (haversine). */
export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return Math.round(2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h)));
}

const otherChoice = () => $('merge-choice-other');
const mergeOpen = () => state.panel?.kind === 'move' && state.panel.requires.includes('parent');

export function wireMerge() {
  $('merge-choices').addEventListener('change', renderMergeCompare);
  otherChoice().addEventListener('change', renderMergeCompare);
  $('merge-other').addEventListener('focus', () => {
    if (otherChoice().checked) return;
    otherChoice().checked = true;
    renderMergeCompare();
  });
  $('merge-other').addEventListener('input', () => {
    // A comparison stays only while it matches the id typed.
    if (state.merge.other && state.merge.other.id !== $('merge-other').value.trim()) {
      state.merge.other = null;
      renderMergeCompare();
    }
  });
  $('merge-other').addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      loadMergeOther();
    }
  });
  $('merge-other-load').addEventListener('click', loadMergeOther);
}

/** Nothing chosen, nothing typed: for a panel opened afresh. */
export function resetMerge() {
  state.merge.other = null;
  for (const radio of document.querySelectorAll('input[name="merge-parent"]')) radio.checked = false;
  $('merge-other').value = '';
  showFieldError('merge-other', null);
}

export function renderMergeChoices() {
  const { case: c, probable_duplicates: dups } = state.current.data;
  const previous = document.querySelector('input[name="merge-parent"]:checked')?.value;
  const choices = dups.filter((d) => d.id !== c.id).map((d, i) => {
    const id = `merge-choice-${i}`;
    return el('div', { class: 'choice' },
      el('input', { type: 'radio', id, name: 'merge-parent', value: d.id }),
      el('label', { for: id, text: t('con.merge.choice', { code: d.tracking_code, category: categoryName(d.category), status: statusName(d.status), time: formatTime(d.created_at, { style: 'short', city: true }) }) }));
  });
  $('merge-choices').replaceChildren(...choices);
  const radios = [...document.querySelectorAll('input[name="merge-parent"]')];
  // Keep the operator's choice across re-renders; the first probable duplicate is the default.
  const keep = previous === undefined ? null : radios.find((r) => r.value === previous);
  if (keep) keep.checked = true;
  else if (choices.length) radios[0].checked = true;
  else otherChoice().checked = true;
  renderMergeCompare();
}

/** The id of the main case chosen or typed ('' for none). */
export function mergeParentId() {
  const checked = document.querySelector('input[name="merge-parent"]:checked');
  if (!checked) return '';
  return checked === otherChoice() ? $('merge-other').value.trim() : checked.value;
}

/** The main case chosen, when its data is at hand (a probable duplicate, or a loaded other case). */
function mergeTarget() {
  const checked = document.querySelector('input[name="merge-parent"]:checked');
  if (!checked) return null;
  if (checked === otherChoice()) return state.merge.other;
  return state.current.data.probable_duplicates.find((d) => d.id === checked.value) || null;
}

async function loadMergeOther() {
  otherChoice().checked = true;
  const id = $('merge-other').value.trim();
  if (!id) {
    showFieldError('merge-other', t('con.merge.otherMissing'));
    $('merge-other').focus();
    return;
  }
  if (id === state.current.id) {
    showFieldError('merge-other', t('con.merge.self'));
    return;
  }
  showFieldError('merge-other', null);
  const res = await staffFetch('GET', `/cases/${encodeURIComponent(id)}`);
  if (!res.ok) {
    state.merge.other = null;
    showFieldError('merge-other', res.status === 404 ? t('con.merge.otherNotFound') : problemText(res.problem));
    renderMergeCompare();
    return;
  }
  state.merge.other = res.data.case;
  renderMergeCompare();
}

function compareCard(c, titleKey, mark) {
  return el('section', { class: 'compare-card', 'aria-label': t(titleKey) },
    el('h5', {}, el('span', { class: `map-key map-key-${mark}`, 'aria-hidden': 'true' }), t(titleKey)),
    el('dl', { class: 'facts' },
      ...[
        ['con.col.code', caseLink(c)],
        ['con.col.status', statusBadge(c.status)],
        ['con.fact.category', categoryName(c.category)],
        ['con.fact.created', timeEl(c.created_at, { style: 'short', city: true })],
        c.address ? ['con.fact.address', c.address] : null,
        ['con.fact.description', el('span', { class: 'pre-wrap', text: c.description })],
        ['con.fact.grid', el('span', { class: 'mono small', text: c.grid_code })],
      ].filter(Boolean).map(([k, v]) => el('div', {}, el('dt', { text: t(k) }), el('dd', {}, v)))));
}

function renderMergeCompare() {
  const c = state.current.data.case;
  const target = mergeTarget();
  if (!target) {
    $('merge-compare').replaceChildren();
    $('merge-map-figure').hidden = true;
    return;
  }
  $('merge-compare').replaceChildren(
    compareCard(c, 'con.merge.this', 'this'),
    compareCard(target, 'con.merge.target', 'target'),
    el('p', { class: 'compare-distance', text: t('con.merge.distance', { m: distanceM(c, target) }) }));
  drawMergeMap(c, target);
}

// ---------- the mini-map

/** The GeoJSON of a grid code, fetched once. */
function geojson(code) {
  if (!state.geo.has(code)) {
    state.geo.set(code, staffFetch('GET', `/grids/${encodeURIComponent(code)}.geojson`, undefined, { accept: 'application/geo+json, application/json' })
      .then((res) => (res.ok && res.data && typeof res.data === 'object' ? res.data : null)));
  }
  return state.geo.get(code);
}

const codeOf = (f) => f?.properties?.code || f?.id;

/** Cells around the two cases: their communities' cells, or just their own cells when a community is not found. */
async function cellsAround(a, b) {
  const features = [];
  const seen = new Set();
  const add = (f) => {
    const code = codeOf(f);
    if (f?.geometry && !seen.has(code)) {
      seen.add(code);
      features.push(f);
    }
  };
  const communities = [...new Set([a.grid_code, b.grid_code].map((g) => String(g).slice(0, 12)))];
  const collections = await Promise.all(communities.map(geojson));
  collections.forEach((fc) => (fc?.features || []).forEach(add));
  for (const g of [a.grid_code, b.grid_code]) {
    if (!seen.has(g)) add(await geojson(g));
  }
  return features;
}

async function drawMergeMap(a, b) {
  const seq = state.current.seq;
  const features = await cellsAround(a, b);
  // Drawn only if the same comparison is still on screen.
  if (seq !== state.current.seq || !mergeOpen() || mergeTarget()?.id !== b.id) return;
  const points = [a, b].map((c) => [Number(c.lng), Number(c.lat)]);
  const hit = new Set([a.grid_code, b.grid_code]);
  // The frame: the two cases' cells and points, with a margin that shows some neighbours.
  const framed = [...points];
  for (const f of features) {
    if (!hit.has(codeOf(f))) continue;
    for (const poly of polygonsOf(f.geometry)) for (const ring of poly) framed.push(...ring);
  }
  const box = bounds(framed);
  const marginX = Math.max((box.maxX - box.minX) * 0.25, 0.0005);
  const marginY = Math.max((box.maxY - box.minY) * 0.25, 0.0005);
  const framedBox = { minX: box.minX - marginX, maxX: box.maxX + marginX, minY: box.minY - marginY, maxY: box.maxY + marginY };
  const { height, px } = fit(framedBox, { width: MAP_WIDTH, maxHeight: MAP_HEIGHT.max, minHeight: MAP_HEIGHT.min });

  const root = svgEl('svg', { viewBox: `0 0 ${MAP_WIDTH} ${height.toFixed(1)}`, role: 'img', 'aria-labelledby': 'merge-map-title merge-map-desc', class: 'mini-map-svg' });
  root.append(
    svgEl('title', { id: 'merge-map-title' }, t('con.merge.mapTitle')),
    svgEl('desc', { id: 'merge-map-desc' }, `${t('con.merge.map')} ${t('con.merge.distance', { m: distanceM(a, b) })}`));
  for (const f of features) {
    const code = codeOf(f);
    const path = svgEl('path', { d: pathData(f.geometry, px), class: hit.has(code) ? 'map-cell map-cell-hit' : 'map-cell', 'fill-rule': 'evenodd' });
    path.append(svgEl('title', {}, `${f.properties?.name || ''} ${code}`));
    root.append(path);
  }
  const [ax, ay] = px(points[0]);
  const [bx, by] = px(points[1]);
  root.append(svgEl('line', { x1: ax, y1: ay, x2: bx, y2: by, class: 'map-link' }));
  // The main case a square, this case a dot: told apart by shape as well as colour.
  root.append(svgEl('rect', { x: bx - 7, y: by - 7, width: 14, height: 14, class: 'map-point map-point-target' }));
  root.append(svgEl('circle', { cx: ax, cy: ay, r: 6, class: 'map-point map-point-this' }));
  $('merge-map').replaceChildren(root);
  $('merge-map-caption').textContent = t('con.merge.map');
  $('merge-map-figure').hidden = false;
}
