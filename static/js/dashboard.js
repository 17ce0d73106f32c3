// The operators' dashboard (dashboard.html): GET /api/indicators as a bar chart and a table,
// the days of the period as a line chart, and a map of the operator's area (GET
// /api/grids/{code}.geojson) coloured per street by an indicator, or per cell by its open
// cases or its open early-warning alerts. Charts and the map are SVG built here, no library; every chart has a table beside
// it with the same numbers, and every table exports to CSV.

import './i18n-dashboard.js';
import { t, initI18n, onLangChange, locale } from './i18n.js';
import { requireStaff, staffFetch, problemText, staffBar } from './staff.js';
import { request } from './api.js';
import { $, el, svgEl, clearDrawing, statusLine } from './dom.js';
import { cityDate } from './format.js';
import { bounds, fit, pathData, polygonsOf } from './cellmap.js';

const GROUPS = ['department', 'district', 'street', 'category'];
const COUNTS = ['received', 'registered', 'dispatched', 'signed_for', 'handled', 'closed', 'returned', 'reworked'];
const RATES = ['on_time_sign_for_rate', 'on_time_handling_rate', 'closure_rate', 'on_time_closure_rate', 'rework_rate', 'return_rate', 'satisfaction_rate'];
const HOURS = ['mean_handling_hours', 'p90_handling_hours'];
const TABLE_FIGURES = [...COUNTS, ...RATES, ...HOURS];
const MAP_METRICS = ['received', 'late_handling_rate', 'late_sign_for_rate', 'closure_rate', 'queue', 'alerts'];
/** The per-cell metrics: each cell its own value, not its street's. */
const PER_CELL = ['queue', 'alerts'];
const MAX_DAYS = 62;
const QUEUE_PAGES = 10; // 10 × 200 newest cases at most for the per-cell load
const ALERT_PAGES = 10; // and 10 × 200 open alerts
// Sequential fills with dark text-free areas: readable on light and dark backgrounds alike.
const PALETTE = {
  load: ['#deebf7', '#9ecae1', '#6baed6', '#3182bd', '#08519c'],
  bad: ['#fee5d9', '#fcae91', '#fb6a4a', '#de2d26', '#a50f15'],
  good: ['#edf8e9', '#bae4b3', '#74c476', '#31a354', '#006d2c'],
};
const NO_DATA = '#bdbdbd';
const MAP_WIDTH = 600;
const MAP_MAX_HEIGHT = 900;

const state = {
  principal: null,
  report: null, // the last GET /api/indicators answer
  query: null, // {group_by, from, to}
  days: [], // [{date, received, handled, closed}]
  daysCapped: false,
  geo: new Map(), // area code → FeatureCollection
  streets: null, // GET /api/indicators?group_by=street for the map
  streetNames: new Map(),
  districts: null, // the current map's top-level areas (GET /api/grids), for a city-wide map
  queue: null, // Map cell code → open cases
  alerts: null, // Map cell code → open early-warning alerts
  mapRows: [],
  seq: 0,
};

const { say } = statusLine('dash-status');

const metricName = (m) => t(`dash.m.${m}`);
const isRate = (m) => RATES.includes(m) || m.startsWith('late_');

/** A figure of an indicator line; the late rates are the complements of the on-time ones. */
function figure(item, metric) {
  if (!item) return null;
  if (metric === 'late_handling_rate') return item.on_time_handling_rate == null ? null : 1 - item.on_time_handling_rate;
  if (metric === 'late_sign_for_rate') return item.on_time_sign_for_rate == null ? null : 1 - item.on_time_sign_for_rate;
  const v = item[metric];
  return typeof v === 'number' ? v : null;
}

function fmt(metric, v) {
  if (v == null) return '—';
  if (isRate(metric)) return `${(v * 100).toLocaleString(locale(), { maximumFractionDigits: 1 })}%`;
  if (HOURS.includes(metric)) return v.toLocaleString(locale(), { maximumFractionDigits: 1 });
  return v.toLocaleString(locale());
}

function lineName(item) {
  if (item.key === null || item.key === undefined) return t('dash.centre');
  return item.name || item.key;
}

function daysBetween(from, to) {
  const out = [];
  for (let d = Date.parse(`${from}T00:00:00Z`); d <= Date.parse(`${to}T00:00:00Z`); d += 86400_000) {
    out.push(new Date(d).toISOString().slice(0, 10));
  }
  return out;
}

// ---------- CSV

function csvCell(v) {
  if (v === null || v === undefined) return '';
  let s = String(v);
  // A text cell that a spreadsheet would run as a formula is kept as text.
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function download(name, text) {
  // The byte-order mark makes Excel read the file as UTF-8 (Chinese names).
  const blob = new Blob([`\ufeff${text.replace(/^\ufeff/, '')}`], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name, class: 'visually-hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  say(t('dash.csvDone', { file: name }), 'ok');
}

function downloadRows(name, rows) {
  download(name, `${rows.map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`);
}

async function exportTable(which) {
  const q = state.query;
  if (!q) return;
  if (which === 'ind') {
    // The server's own CSV: every figure, the centre's line and the total.
    const params = new URLSearchParams({ ...q, format: 'csv' });
    const res = await staffFetch('GET', `/indicators?${params}`, undefined, { accept: 'text/csv' });
    if (!res.ok) {
      say(t('dash.failed', { problem: problemText(res.problem) }), 'error');
      return;
    }
    download(`indicators-${q.group_by}-${q.from}-${q.to}.csv`, String(res.data));
  } else if (which === 'day') {
    downloadRows(`daily-${q.from}-${q.to}.csv`, [
      ['date', 'received', 'handled', 'closed'],
      ...state.days.map((d) => [d.date, d.received, d.handled, d.closed]),
    ]);
  } else if (which === 'map') {
    const metric = $('map-metric').value;
    downloadRows(`map-${metric}-${q.from}-${q.to}.csv`, [
      ['code', 'name', metric],
      ...state.mapRows.map((r) => [r.code, r.name, r.value]),
    ]);
  }
}

// ---------- indicators: bar chart and table

function renderIndicators() {
  const report = state.report;
  const metric = $('f-metric').value;
  const items = report?.items || [];
  const chart = $('indicator-chart');
  clearDrawing(chart);
  const q = state.query;
  $('indicator-chart-title').textContent = q
    ? t('dash.ind.chartTitle', { metric: metricName(metric), group: t(`dash.group.${q.group_by}`), from: q.from, to: q.to })
    : '';
  const rows = items.map((i) => ({ name: lineName(i), value: figure(i, metric) }));
  $('indicator-chart-desc').textContent = t('dash.ind.chartDesc', {
    list: rows.map((r) => `${r.name}: ${fmt(metric, r.value)}`).join('; '),
  });
  $('indicator-caption').textContent = t('dash.ind.caption');
  const W = 800;
  const labelW = 260;
  const valueW = 80;
  const rowH = 30;
  const top = 28;
  const H = Math.max(120, top + rows.length * rowH + 12);
  chart.setAttribute('viewBox', `0 0 ${W} ${H}`);
  chart.setAttribute('height', String(H));
  if (!rows.length) {
    chart.append(svgEl('text', { x: 10, y: 40, class: 'chart-label' }, t('dash.noRows')));
  } else {
    // Counts get whole-number ticks: the axis ends on a multiple of 4.
    const top4 = (v) => Math.max(4, Math.ceil(v / 4) * 4);
    const max = isRate(metric) ? 1 : HOURS.includes(metric) ? Math.max(1, ...rows.map((r) => r.value || 0)) : top4(Math.max(0, ...rows.map((r) => r.value || 0)));
    const plotW = W - labelW - valueW;
    for (let k = 0; k <= 4; k += 1) {
      const x = labelW + (plotW * k) / 4;
      chart.append(svgEl('line', { x1: x, x2: x, y1: top - 6, y2: H - 8, class: 'chart-grid' }));
      chart.append(svgEl('text', { x, y: top - 10, 'text-anchor': 'middle', class: 'chart-tick' }, fmt(metric, isRate(metric) ? k / 4 : Math.round((max * k) / 4 * 10) / 10)));
    }
    rows.forEach((r, i) => {
      const y = top + i * rowH;
      const label = r.name.length > 20 ? `${r.name.slice(0, 19)}…` : r.name;
      const g = svgEl('g', { class: 'chart-row' });
      g.append(svgEl('title', {}, `${r.name}: ${fmt(metric, r.value)}`));
      g.append(svgEl('text', { x: labelW - 8, y: y + rowH / 2 + 5, 'text-anchor': 'end', class: 'chart-label' }, label));
      const w = r.value == null ? 0 : Math.max(r.value > 0 ? 2 : 0, (plotW * r.value) / max);
      g.append(svgEl('rect', { x: labelW, y: y + 5, width: w, height: rowH - 10, rx: 3, class: 'chart-bar' }));
      g.append(svgEl('text', { x: labelW + w + 6, y: y + rowH / 2 + 5, class: 'chart-value' }, fmt(metric, r.value)));
      chart.append(g);
    });
  }

  const table = $('ind-table');
  const head = el('tr', {}, el('th', { scope: 'col', text: t(`dash.group.${q?.group_by || 'department'}`) }),
    ...TABLE_FIGURES.map((m) => el('th', { scope: 'col', class: 'num', text: metricName(m) })));
  const body = items.map((i) => el('tr', {}, el('th', { scope: 'row', text: lineName(i) }),
    ...TABLE_FIGURES.map((m) => el('td', { class: 'num', text: fmt(m, figure(i, m)) }))));
  const foot = report?.total
    ? el('tr', {}, el('th', { scope: 'row', text: t('dash.total') }), ...TABLE_FIGURES.map((m) => el('td', { class: 'num', text: fmt(m, figure(report.total, m)) })))
    : null;
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body), foot ? el('tfoot', {}, foot) : '');
}

// ---------- per day: line chart and table

async function loadDays(q, seq) {
  let days = daysBetween(q.from, q.to);
  state.daysCapped = days.length > MAX_DAYS;
  days = days.slice(-MAX_DAYS);
  const out = new Array(days.length);
  let next = 0;
  // A few at a time: one small rollup read per day.
  async function worker() {
    while (next < days.length) {
      const i = next++;
      const params = new URLSearchParams({ from: days[i], to: days[i] });
      const res = await staffFetch('GET', `/indicators?${params}`);
      const total = res.ok ? res.data?.total || {} : {};
      out[i] = { date: days[i], received: total.received ?? 0, handled: total.handled ?? 0, closed: total.closed ?? 0 };
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);
  if (seq === state.seq) state.days = out;
}

function renderDays() {
  const chart = $('daily-chart');
  clearDrawing(chart);
  const days = state.days;
  const q = state.query;
  if (!q) return;
  const sum = (k) => days.reduce((a, d) => a + d[k], 0);
  const peak = Math.max(0, ...days.map((d) => d.received));
  $('daily-chart-title').textContent = t('dash.day.chartTitle', { from: q.from, to: q.to });
  $('daily-chart-desc').textContent = t('dash.day.chartDesc', { received: sum('received'), closed: sum('closed'), peak });
  $('daily-caption').textContent = state.daysCapped ? t('dash.day.capped', { n: MAX_DAYS }) : t('dash.day.caption');
  const W = 800;
  const H = 260;
  const left = 44;
  const right = 16;
  const top = 30;
  const bottom = 36;
  const max = Math.max(4, Math.ceil(Math.max(0, ...days.map((d) => Math.max(d.received, d.closed))) / 4) * 4);
  const x = (i) => left + (days.length <= 1 ? 0 : ((W - left - right) * i) / (days.length - 1));
  const y = (v) => top + (H - top - bottom) * (1 - v / max);
  for (let k = 0; k <= 4; k += 1) {
    const v = Math.round((max * k) / 4);
    chart.append(svgEl('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), class: 'chart-grid' }));
    chart.append(svgEl('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'chart-tick' }, String(v)));
  }
  const every = Math.max(1, Math.ceil(days.length / 8));
  days.forEach((d, i) => {
    // The last day is labelled too, unless it would overlap the label before it.
    if (i % every === 0 || (i === days.length - 1 && i % every >= every / 2)) {
      chart.append(svgEl('text', { x: x(i), y: H - bottom + 18, 'text-anchor': 'middle', class: 'chart-tick' }, d.date.slice(5)));
    }
  });
  for (const [key, cls, legendX] of [['received', 'series-a', left], ['closed', 'series-b', left + 150]]) {
    const points = days.map((d, i) => `${x(i).toFixed(1)},${y(d[key]).toFixed(1)}`).join(' ');
    chart.append(svgEl('polyline', { points, class: `chart-line ${cls}` }));
    days.forEach((d, i) => {
      const dot = svgEl('circle', { cx: x(i), cy: y(d[key]), r: 3, class: `chart-dot ${cls}` });
      dot.append(svgEl('title', {}, `${d.date} ${metricName(key)}: ${d[key]}`));
      chart.append(dot);
    });
    chart.append(svgEl('line', { x1: legendX, x2: legendX + 24, y1: 12, y2: 12, class: `chart-line ${cls}` }));
    chart.append(svgEl('text', { x: legendX + 30, y: 16, class: 'chart-label' }, metricName(key)));
  }

  const table = $('day-table');
  const cols = ['received', 'handled', 'closed'];
  table.replaceChildren(
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: t('dash.col.date') }), ...cols.map((c) => el('th', { scope: 'col', class: 'num', text: metricName(c) })))),
    el('tbody', {}, ...days.map((d) => el('tr', {}, el('th', { scope: 'row', text: d.date }), ...cols.map((c) => el('td', { class: 'num', text: String(d[c]) }))))),
  );
}

// ---------- the map

/** The areas whose cells make the map: the operator's own, or every district of the city. */
function mapRoots() {
  const area = state.principal.area;
  if (area) return [area];
  return state.districts || [];
}

/** The city's districts, once: the top-level areas of the current map. */
async function loadDistricts() {
  if (state.principal.area || state.districts) return;
  const res = await request('GET', '/grids');
  if (res.ok && Array.isArray(res.data?.items)) state.districts = res.data.items.map((d) => d.code);
}

async function loadGeo(code) {
  if (state.geo.has(code)) return state.geo.get(code);
  const res = await request('GET', `/grids/${encodeURIComponent(code)}.geojson`);
  const fc = res.ok && res.data ? res.data : null;
  state.geo.set(code, fc);
  // Street names for the map's table, from the area's children.
  if (fc && code.length === 6) {
    const detail = await request('GET', `/grids/${code}`);
    for (const c of detail.data?.children || []) state.streetNames.set(c.code, c.name);
  }
  return fc;
}

async function loadQueue() {
  const counts = new Map();
  let after = null;
  let seen = 0;
  for (let page = 0; page < QUEUE_PAGES; page += 1) {
    const params = new URLSearchParams({ limit: '200' });
    if (after) params.set('after', after);
    const res = await staffFetch('GET', `/cases?${params}`);
    if (!res.ok) break;
    for (const c of res.data?.items || []) {
      seen += 1;
      if (!['closed', 'evaluated', 'rejected', 'merged'].includes(c.status)) counts.set(c.grid_code, (counts.get(c.grid_code) || 0) + 1);
    }
    after = res.data?.next;
    if (!after) break;
  }
  state.queue = { counts, seen };
}

/** The open early-warning alerts of the operator's area, counted per cell. */
async function loadAlerts() {
  const counts = new Map();
  let before = null;
  for (let page = 0; page < ALERT_PAGES; page += 1) {
    const params = new URLSearchParams({ status: 'open', limit: '200' });
    if (before) params.set('before', before);
    const res = await staffFetch('GET', `/alerts?${params}`);
    if (!res.ok) break;
    for (const a of res.data?.items || []) counts.set(a.area, (counts.get(a.area) || 0) + 1);
    before = res.data?.next;
    if (!before) break;
  }
  state.alerts = { counts };
}

function features() {
  const out = [];
  for (const code of mapRoots()) {
    const fc = state.geo.get(code);
    if (!fc) continue;
    if (fc.type === 'Feature') out.push(fc);
    else for (const f of fc.features || []) out.push(f);
  }
  return out;
}

async function drawMap() {
  const metric = $('map-metric').value;
  const svg = $('cell-map');
  const cells = features();
  clearDrawing(svg);
  $('cell-map-title').textContent = t('dash.map.title', { metric: metricName(metric) });
  if (!cells.length) {
    $('map-note').textContent = t('dash.map.noMap');
    $('map-legend').replaceChildren();
    state.mapRows = [];
    renderMapTable(metric);
    return;
  }
  // Framed by the cells' outer rings.
  const box = bounds(cells.flatMap((f) => polygonsOf(f.geometry).flatMap((poly) => poly[0] || [])));
  const { height, px } = fit(box, { width: MAP_WIDTH, maxHeight: MAP_MAX_HEIGHT, pad: 8 });
  svg.setAttribute('viewBox', `0 0 ${MAP_WIDTH} ${height.toFixed(1)}`);

  // One path per unit (a street, or a cell for the queue) holding all its cells' rings.
  const perCell = PER_CELL.includes(metric);
  const cellCounts = metric === 'alerts' ? state.alerts?.counts : state.queue?.counts;
  const units = new Map();
  for (const f of cells) {
    const code = String(f.properties?.code || f.id || '');
    const unit = perCell ? code : code.slice(0, 9);
    const u = units.get(unit) || { code: unit, d: '', name: perCell ? f.properties?.name : null };
    u.d += pathData(f.geometry, px);
    units.set(unit, u);
  }
  const byStreet = new Map((state.streets?.items || []).map((i) => [i.key, i]));
  const rows = [];
  for (const u of units.values()) {
    // A street without a line has received nothing: 0 for a count, no data for a rate.
    const counted = COUNTS.includes(metric);
    const value = perCell ? (cellCounts?.get(u.code) || 0) : figure(byStreet.get(u.code), metric) ?? (counted ? 0 : null);
    const name = perCell ? (u.name || t('dash.map.cell', { code: u.code })) : (byStreet.get(u.code)?.name || state.streetNames.get(u.code) || u.code);
    rows.push({ ...u, value, name });
  }
  const values = rows.map((r) => r.value).filter((v) => v != null);
  const palette = metric === 'closure_rate' ? PALETTE.good : metric.startsWith('late_') || metric === 'alerts' ? PALETTE.bad : PALETTE.load;
  const whole = !isRate(metric);
  const hi = isRate(metric) ? 1 : Math.max(1, ...values);
  // Rates: five equal classes. Counts: 0 on its own, then whole-number classes up to the
  // highest value (fewer when the values are few), spread over the palette.
  let classes = [];
  if (whole) {
    classes.push({ low: 0, high: 0 });
    let prev = 0;
    for (let i = 1; i < palette.length; i += 1) {
      const high = Math.ceil((hi * i) / (palette.length - 1));
      if (high > prev) classes.push({ low: prev + 1, high });
      prev = Math.max(prev, high);
    }
  } else {
    classes = palette.map((_, i) => ({ low: i / palette.length, high: (i + 1) / palette.length }));
  }
  const shade = (i) => palette[classes.length === 1 ? 0 : Math.round((i * (palette.length - 1)) / (classes.length - 1))];
  const colour = (v) => {
    if (v == null) return NO_DATA;
    const i = classes.findIndex((c) => v <= c.high + 1e-9);
    return shade(i < 0 ? classes.length - 1 : i);
  };
  const focusable = rows.length <= 120;
  for (const r of rows) {
    const path = svgEl('path', { d: r.d, fill: colour(r.value), class: 'map-area', 'fill-rule': 'evenodd', 'data-code': r.code, tabindex: focusable ? '0' : undefined });
    path.append(svgEl('title', {}, `${r.name}: ${fmt(metric, r.value)}`));
    svg.append(path);
  }

  // The legend: each class's range in words beside its swatch, and no-data.
  const legend = classes.map((c, i) => {
    const sw = el('span', { class: 'swatch', 'aria-hidden': 'true' });
    sw.style.background = shade(i); // a computed colour: el.style is allowed by the CSP, style="" is not
    const range = c.low === c.high ? fmt(metric, c.low) : `${fmt(metric, c.low)}–${fmt(metric, c.high)}`;
    return el('span', { class: 'legend-item' }, sw, range);
  });
  const none = el('span', { class: 'swatch', 'aria-hidden': 'true' });
  none.style.background = NO_DATA;
  legend.push(el('span', { class: 'legend-item' }, none, t('dash.map.noData')));
  $('map-legend').replaceChildren(...legend);
  $('map-note').textContent = metric === 'alerts' ? t('dash.map.noteAlerts')
    : perCell ? t('dash.map.noteQueue', { n: QUEUE_PAGES * 200 }) : t('dash.map.noteStreet');

  rows.sort((a, b) => (b.value ?? -1) - (a.value ?? -1) || a.code.localeCompare(b.code));
  state.mapRows = perCell ? rows.filter((r) => r.value > 0) : rows;
  const top = rows[0];
  $('cell-map-desc').textContent = t('dash.map.desc', { n: rows.length, top: top ? `${top.name} (${fmt(metric, top.value)})` : '—' });
  renderMapTable(metric);
}

function renderMapTable(metric) {
  $('map-table').replaceChildren(
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: t('dash.col.key') }), el('th', { scope: 'col', text: t('dash.col.area') }), el('th', { scope: 'col', class: 'num', text: metricName(metric) }))),
    el('tbody', {}, ...state.mapRows.map((r) => el('tr', {}, el('td', { class: 'mono', text: r.code }), el('th', { scope: 'row', text: r.name }), el('td', { class: 'num', text: fmt(metric, r.value) })))),
  );
}

async function refreshMap() {
  const metric = $('map-metric').value;
  if (metric === 'queue' && !state.queue) await loadQueue();
  if (metric === 'alerts' && !state.alerts) await loadAlerts();
  await loadDistricts();
  await Promise.all(mapRoots().map(loadGeo));
  await drawMap();
}

// ---------- loading

function readQuery() {
  const from = $('f-from').value || cityDate(-29);
  const to = $('f-to').value || cityDate(0);
  return { group_by: $('f-group').value, from, to };
}

async function load() {
  const q = readQuery();
  if (q.from > q.to) {
    say(t('dash.f.badRange'), 'error');
    $('f-from').setAttribute('aria-invalid', 'true');
    $('f-from').focus();
    return;
  }
  $('f-from').removeAttribute('aria-invalid');
  const seq = ++state.seq;
  say(t('dash.loading'));
  const [main, streets] = await Promise.all([
    staffFetch('GET', `/indicators?${new URLSearchParams(q)}`),
    q.group_by === 'street' ? null : staffFetch('GET', `/indicators?${new URLSearchParams({ ...q, group_by: 'street' })}`),
  ]);
  if (seq !== state.seq) return;
  if (!main.ok) {
    say(t('dash.failed', { problem: problemText(main.problem) }), 'error');
    state.query = q;
    state.report = null;
    renderIndicators();
    await refreshMap();
    return;
  }
  state.query = q;
  state.report = main.data;
  state.streets = q.group_by === 'street' ? main.data : streets?.ok ? streets.data : null;
  state.queue = null;
  renderIndicators();
  await Promise.all([loadDays(q, seq), refreshMap()]);
  if (seq !== state.seq) return;
  renderDays();
  say(t('dash.loaded', { from: q.from, to: q.to }), 'ok');
}

function fillSelects() {
  const group = $('f-group');
  const metric = $('f-metric');
  const mapMetric = $('map-metric');
  const keep = [group.value, metric.value, mapMetric.value];
  group.replaceChildren(...GROUPS.map((g) => el('option', { value: g, text: t(`dash.group.${g}`) })));
  metric.replaceChildren(...TABLE_FIGURES.map((m) => el('option', { value: m, text: metricName(m) })));
  mapMetric.replaceChildren(...MAP_METRICS.map((m) => el('option', { value: m, text: metricName(m) })));
  group.value = keep[0] || 'department';
  metric.value = keep[1] || 'received';
  mapMetric.value = keep[2] || (state.principal.area?.length === 9 ? 'queue' : 'received');
}

async function scope() {
  const area = state.principal.area;
  if (!area) {
    $('dash-scope').textContent = t('dash.scope.city');
    return;
  }
  const res = await request('GET', `/grids/${encodeURIComponent(area)}`);
  $('dash-scope').textContent = t('dash.scope.area', { name: res.data?.name || area, code: area });
  for (const c of res.data?.children || []) state.streetNames.set(c.code, c.name);
}

async function main() {
  const principal = await requireStaff(['city_operator', 'district_operator', 'street_operator', 'admin']);
  state.principal = principal;
  staffBar(principal);
  initI18n();
  fillSelects();
  $('f-from').value = cityDate(-29);
  $('f-to').value = cityDate(0);
  scope();

  $('dash-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });
  $('f-metric').addEventListener('change', renderIndicators);
  $('map-metric').addEventListener('change', () => refreshMap());
  for (const b of document.querySelectorAll('button.csv-export')) b.addEventListener('click', () => exportTable(b.dataset.table));
  onLangChange(() => {
    fillSelects();
    scope();
    renderIndicators();
    renderDays();
    drawMap();
  });
  await load();
}

main();
