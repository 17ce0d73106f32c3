// OneGrid in a real browser (Playwright with the system's Chromium), end to end:
//   a citizen on a phone: the inline validation (the wasm rules) refuses a bad report, then a
//   report with a photo (its GPS EXIF gone before upload), picked on the map; the tracking page;
//   an operator signs in, looks at the overdue board, merges a second report of the same sign
//   into the first (after a rejection without a reason is refused in the page), accepts and
//   dispatches with the routing suggestion in the console; the department signs for it at its
//   desk, whose form asks for what the server says each move needs, and its system reports the
//   result by a signed callback; the operator verifies and closes; the citizen rates; the
//   dashboard draws.
// Every page is screenshotted into tests/screenshots/. No page may load anything from outside
// the app. Run by tests/tests/browser.rs (cargo test), which gives it the deployment the
// black-box tests run on (the native host or `spin up`, see tests/src/runtime.rs), or by hand
// on a native host it starts itself:
//   ONEGRID_BIN=target/debug/onegrid node tests/browser/run.mjs
// Environment: ONEGRID_BASE_URL with ONEGRID_ADMIN_TOKEN, ONEGRID_OPERATOR_TOKEN and
// ONEGRID_STAFF_PASSWORDS (JSON: username → password; on a deployment that holds the demo city),
// or else ONEGRID_BIN (the host to start); CHROMIUM (default /usr/bin/chromium);
// ONEGRID_BROWSER_TRACE=1 prints the report page's first load request by request.

import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// playwright-core is a package of web/ (installed by scripts/build-web).
const requireWeb = createRequire(join(root, 'web', 'package.json'));
const { chromium } = requireWeb('playwright-core');
// axe-core checks each page against WCAG 2 A and AA (contrast, names, labels, ARIA).
const axeSource = readFileSync(requireWeb.resolve('axe-core/axe.min.js'), 'utf8');
const shots = join(root, 'tests', 'screenshots');
rmSync(shots, { recursive: true, force: true }); // only this run's pictures
mkdirSync(shots, { recursive: true });

const bin = process.env.ONEGRID_BIN || join(root, 'target', 'debug', 'onegrid');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const GPS_MARKER = 'ONEGRID-TEST-GPS-24.48N-118.09E';

// ---------- the app and a fake department

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function startHost() {
  const data = mkdtempSync(join(tmpdir(), 'onegrid-browser-'));
  const port = await freePort();
  const child = spawn(bin, ['--listen', `127.0.0.1:${port}`, '--data', data, '--static', join(root, 'static')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/api/health`)).ok) break;
    } catch { /* not up yet */ }
    if (child.exitCode !== null) throw new Error(`the host exited:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const secrets = JSON.parse(readFileSync(join(data, 'secrets.json'), 'utf8'));
  return {
    base,
    adminToken: secrets.admin_token,
    operatorToken: secrets.operator_token,
    // The native host's demo staff share one generated password.
    password: () => secrets.demo_staff_password,
    stop: () => { child.kill('SIGKILL'); rmSync(data, { recursive: true, force: true }); },
    log: () => log,
  };
}

/** The deployment the caller runs (its log is the caller's to show). */
function givenDeployment() {
  const passwords = JSON.parse(process.env.ONEGRID_STAFF_PASSWORDS || 'null');
  assert.ok(passwords, 'ONEGRID_STAFF_PASSWORDS must give the demo staff passwords with ONEGRID_BASE_URL');
  return {
    base: process.env.ONEGRID_BASE_URL.replace(/\/$/, ''),
    adminToken: process.env.ONEGRID_ADMIN_TOKEN,
    operatorToken: process.env.ONEGRID_OPERATOR_TOKEN,
    password: (username) => passwords[username],
    stop: () => {},
    log: () => '(the deployment\'s log is with the caller)',
  };
}

/** A department's system: takes OneGrid's webhooks (answers 200) and remembers them. */
async function fakeDepartment() {
  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body || 'null') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/onegrid`, received, close: () => server.close() };
}

// Standard Webhooks: v1,base64(HMAC-SHA256(key, "id.timestamp.body")), key = base64 after whsec_.
function signed(secret, body) {
  const id = `msg_${randomBytes(8).toString('hex')}`;
  const ts = Math.floor(Date.now() / 1000);
  const text = JSON.stringify(body);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${text}`).digest('base64');
  return { headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` }, body: text };
}

async function api(base, method, path, token, body) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const type = res.headers.get('content-type') || '';
  return { status: res.status, data: type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer()) };
}

async function until(what, check, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// ---------- the run

const app = process.env.ONEGRID_BASE_URL ? givenDeployment() : await startHost();
const department = await fakeDepartment();
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  // No sandbox as root in CI; no background traffic to Google's hosts on a closed network.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const outside = [];
const failures = [];
let step = 0;

async function newPage(options) {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...options });
  const page = await context.newPage();
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(app.base) && !url.startsWith('data:') && !url.startsWith('blob:')) outside.push(url);
  });
  page.on('pageerror', (e) => failures.push(`page error on ${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    // A point outside the city is a 404 the report page answers in words (outside-jurisdiction);
    // Chromium still logs the load as failed. Every other failed load counts.
    if (/status of 404/.test(m.text()) && m.location()?.url?.includes('/api/grid/lookup')) return;
    failures.push(`console error on ${page.url()}: ${m.text()}`);
  });
  return page;
}

async function shot(page, name) {
  step += 1;
  await page.screenshot({ path: join(shots, `${String(step).padStart(2, '0')}-${name}.png`), fullPage: true });
  await accessible(page, name);
}

// Every screenshotted state is also checked by axe-core. It runs through the DevTools protocol,
// which the pages' CSP does not govern. Serious and critical findings fail the run.
const barriers = [];
async function accessible(page, name) {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const result = await globalThis.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  });
  for (const f of found) barriers.push(`${name}: ${f}`);
}

async function signIn(page, username) {
  await page.goto(`${app.base}/signin.html`);
  await page.fill('#username', username);
  await page.fill('#password', app.password(username));
  await shot(page, `signin-${username}`);
  await page.click('#signin-form button[type=submit]');
}

try {
  const admin = app.adminToken;
  const operator = app.operatorToken;
  // The gardens bureau gets a webhook (our fake department) and a secret for its callbacks.
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const put = await api(app.base, 'PUT', '/api/admin/departments/gardens', admin,
    { name: '市政园林局 Municipal Gardens Bureau', webhook_url: department.url, secret });
  assert.equal(put.status, 200, JSON.stringify(put.data));

  // ---- the report page's first load on a phone network: Chromium's "Slow 4G" profile (562.5 ms
  // round trip, 1.44 Mbit/s down, 675 kbit/s up), an empty cache, brotli as the browser asks.
  // Bytes are what came over the wire (headers included) until the network is idle; the page is
  // interactive when its categories are drawn and the report rules' module has loaded (the form
  // can be filled and checked). The byte budget is asserted; the time is printed (it depends on
  // the machine's load as well as on the emulated network).
  {
    const first = await newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const cdp = await first.context().newCDPSession(first);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 562.5, downloadThroughput: 180000, uploadThroughput: 84375,
    });
    let bytes = 0;
    let requests = 0;
    const timeline = new Map();
    cdp.on('Network.requestWillBeSent', (e) => { timeline.set(e.requestId, { url: e.request.url, sent: e.timestamp }); });
    cdp.on('Network.loadingFinished', (e) => {
      bytes += e.encodedDataLength;
      requests += 1;
      const r = timeline.get(e.requestId);
      if (r) Object.assign(r, { done: e.timestamp, bytes: e.encodedDataLength });
    });
    const started = Date.now();
    await first.goto(`${app.base}/`);
    await first.waitForSelector('input[name=category][value="landscape.greenway_sign"]', { timeout: 30000 });
    await first.waitForSelector('html[data-rules=wasm]', { timeout: 30000 });
    const interactive = Date.now() - started;
    await first.waitForSelector('html[data-map=cells]', { timeout: 30000 });
    await first.waitForLoadState('networkidle');
    const loaded = Date.now() - started;
    console.log(`report page, first load on Slow 4G: ${(bytes / 1024).toFixed(1)} KiB in ${requests} requests; ` +
      `interactive after ${interactive} ms, the map's cells after ${loaded} ms`);
    if (process.env.ONEGRID_BROWSER_TRACE) {
      const t0 = Math.min(...[...timeline.values()].map((r) => r.sent));
      for (const r of timeline.values()) {
        console.log(`  ${((r.sent - t0) * 1000).toFixed(0).padStart(6)} → ${(((r.done ?? r.sent) - t0) * 1000).toFixed(0).padStart(6)} ms ${String(r.bytes ?? '-').padStart(7)} B ${r.url.replace(app.base, '')}`);
      }
    }
    assert.ok(bytes < 200 * 1024, `the report page's first load is under 200 KiB (${bytes} bytes)`);
    await first.context().close();
  }

  // ---- a citizen, on a phone
  const phone = await newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  await phone.goto(`${app.base}/`);
  await phone.waitForSelector('input[name=category][value="landscape.greenway_sign"]');
  await phone.waitForSelector('html[data-rules=wasm]');
  await phone.waitForSelector('html[data-map=cells]');
  await shot(phone, 'report-form');

  // The rules refuse a bad report in the page: nothing is sent.
  let posted = 0;
  phone.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/reports')) posted += 1; });
  await phone.fill('#description', '坏了');
  await phone.fill('#lat', '95');
  await phone.fill('#lng', '118.09');
  await phone.click('#submit-btn');
  await phone.waitForSelector('#error-summary:not([hidden])');
  for (const field of ['category', 'description', 'lat']) {
    assert.ok(await phone.isVisible(`#${field}-error`), `${field} shows its error`);
  }
  assert.match(await phone.textContent('#description-error'), /至少/);
  assert.match(await phone.textContent('#lat-error'), /-90 到 90/);
  assert.equal(posted, 0, 'an invalid report is not sent');
  await shot(phone, 'report-refused');
  // No place at all: one error for the location, not one per box.
  await phone.fill('#lat', '');
  await phone.fill('#lng', '');
  await phone.click('#submit-btn');
  await phone.waitForSelector('#location-error:not([hidden])');
  assert.ok(!(await phone.isVisible('#lat-error')) && !(await phone.isVisible('#lng-error')), 'one error for a missing place');
  // A place outside the city is said in the page's language, with the area the city serves.
  await phone.fill('#lat', '39.9042');
  await phone.fill('#lng', '116.4074');
  await phone.locator('#lng').dispatchEvent('change');
  assert.ok(!(await phone.isVisible('#location-error')), 'the place error goes once a place is typed');
  await phone.waitForSelector('#grid-result.is-warn p.small');
  const outsideText = await phone.textContent('#grid-result');
  assert.match(outsideText, /不在本平台的服务范围内/);
  assert.match(outsideText, /思明区/);
  assert.ok(!/[A-Za-z]{4,}/.test(outsideText), `no English server text: ${outsideText}`);
  await shot(phone, 'report-outside');

  // Now a good one: a category from the search, a photo with GPS in its EXIF, a place on the map.
  await phone.fill('#category-search', '绿道');
  await phone.check('input[name=category][value="landscape.greenway_sign"]');
  await phone.fill('#description', '绿道 3 号标识牌倒在路边，指示方向看不清。');
  await phone.fill('#lat', '');
  await phone.fill('#lng', '');
  const jpeg = await phone.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 2400;
    canvas.height = 1800;
    const g = canvas.getContext('2d');
    g.fillStyle = '#2e7d32';
    g.fillRect(0, 0, 2400, 1800);
    g.fillStyle = '#fff';
    g.fillRect(600, 500, 1200, 600);
    const blob = await new Promise((r) => canvas.toBlob(r, 'image/jpeg', 0.9));
    return [...new Uint8Array(await blob.arrayBuffer())];
  });
  // An APP1 Exif segment right after SOI, carrying a marker where a phone puts its GPS block.
  const exif = Buffer.concat([Buffer.from('Exif\0\0MM\0*\0\0\0\x08', 'latin1'), Buffer.from(GPS_MARKER)]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (exif.length + 2) >> 8, (exif.length + 2) & 0xff]), exif]);
  const photoPath = join(tmpdir(), `onegrid-photo-${process.pid}.jpg`);
  writeFileSync(photoPath, Buffer.concat([Buffer.from(jpeg.slice(0, 2)), app1, Buffer.from(jpeg.slice(2))]));
  await phone.setInputFiles('#photos', photoPath);
  await phone.waitForSelector('#photo-list li img');
  await phone.waitForSelector('html[data-map-area]');
  const box = await phone.locator('#map').boundingBox();
  await phone.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await until('the map pick to fill the coordinates', async () => (await phone.inputValue('#lat')) !== '');
  await phone.waitForSelector('#grid-result p.strong');
  // The reporter chooses publication (off until ticked).
  assert.equal(await phone.isChecked('#public'), false);
  await phone.check('#public');
  await shot(phone, 'report-filled');
  await phone.click('#submit-btn');
  await phone.waitForSelector('#result:not([hidden])');
  const code = (await phone.textContent('#result-code')).trim();
  assert.match(code, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  assert.equal(posted, 1);
  const publicId = (await phone.textContent('#result-public-id')).trim();
  assert.match(publicId, /^P[0-9A-Z]{10}$/, 'a public id, not the tracking code');
  await shot(phone, 'report-sent');
  const shown = await api(app.base, 'GET', `/api/public/reports/${publicId}`);
  assert.equal(shown.status, 200);
  assert.ok(!JSON.stringify(shown.data).includes(code), 'the public answer never shows the tracking code');

  // The stored photo: smaller than the original, the EXIF and its GPS marker gone.
  const view = await api(app.base, 'GET', `/api/reports/${code}`);
  assert.equal(view.data.photos.length, 1);
  const stored = await api(app.base, 'GET', view.data.photos[0].href);
  assert.equal(stored.status, 200);
  assert.ok(!stored.data.includes(Buffer.from(GPS_MARKER)), 'the GPS marker left the browser');
  assert.ok(!stored.data.includes(Buffer.from('Exif')), 'no Exif segment');

  await phone.click('#result-link');
  await phone.waitForSelector('#case:not([hidden]) #case-badge');
  await phone.waitForSelector('#case-photos img');
  // Four steps, the first (accepted) still to come; the report says how it came in, in words.
  await phone.waitForSelector('#case-steps:not([hidden]) .step');
  assert.equal(await phone.locator('#case-steps .step').count(), 4);
  assert.equal(await phone.locator('#case-steps .step.is-current').count(), 1);
  assert.equal(await phone.locator('#case-steps .step.is-done').count(), 0);
  assert.equal(await phone.getAttribute('#case-steps .step:nth-child(1)', 'aria-current'), 'step');
  await shot(phone, 'track-reported');

  // Someone starts the same report at the same place: the open public report is shown before
  // anything is sent, and followed instead.
  await phone.goto(`${app.base}/`);
  await phone.fill('#category-search', '绿道');
  await phone.check('input[name=category][value="landscape.greenway_sign"]');
  // The map is made and shows its area (the view the first report was picked in): a tap before
  // the area came would land where the map started.
  await phone.waitForSelector('html[data-map-area]');
  await phone.locator('#map').scrollIntoViewIfNeeded();
  const again_box = await phone.locator('#map').boundingBox();
  await phone.mouse.click(again_box.x + again_box.width / 2, again_box.y + again_box.height / 2);
  await until('the map pick to fill the coordinates', async () => (await phone.inputValue('#lat')) !== '');
  await phone.waitForSelector('#grid-result p.strong');
  await phone.waitForSelector('#nearby:not([hidden]) button[data-follow]');
  assert.match(await phone.textContent('#nearby-title'), /附近已有 1 条相同问题/);
  assert.equal(await phone.getAttribute('#nearby button[data-follow]', 'data-follow'), publicId);
  await shot(phone, 'report-nearby');
  await phone.click('#nearby button[data-follow]');
  await phone.waitForSelector('#nearby .nearby-followed a');
  // "My reports" on the tracking page: the one sent from this phone, and the one followed.
  await phone.goto(`${app.base}/track.html`);
  await phone.waitForSelector(`#mine:not([hidden]) button[data-code="${code}"]`);
  await phone.waitForSelector(`#mine-followed li[data-public-id="${publicId}"] .badge`);
  assert.match(await phone.textContent(`#mine-followed li[data-public-id="${publicId}"]`), /绿道 3 号标识牌/);
  await shot(phone, 'track-mine');
  await phone.click(`#mine button[data-code="${code}"]`);
  await phone.waitForSelector('#case:not([hidden]) #case-badge');

  // ---- the operator, on a laptop
  const cases = await api(app.base, 'GET', '/api/cases?limit=50', operator);
  const caseId = cases.data.items.find((c) => c.tracking_code === code).id;
  // The case answer states what each allowed move needs; the pages read it from there.
  const answer = await api(app.base, 'GET', `/api/cases/${caseId}`, operator);
  assert.deepEqual(answer.data.moves.map((m) => m.move), answer.data.allowed_moves);
  assert.deepEqual(answer.data.moves.find((m) => m.move === 'reject'), { move: 'reject', requires: ['reason'], evidence: false });
  assert.deepEqual(answer.data.moves.find((m) => m.move === 'merge'), { move: 'merge', requires: ['parent'], evidence: false });
  // A second report of the same sign, a few metres away: a probable duplicate of the first.
  const first = answer.data.case;
  const again = await api(app.base, 'POST', '/api/reports', null, {
    category: 'landscape.greenway_sign', description: '绿道 3 号标识牌倒了，挡住了一半路面。',
    lat: first.lat + 0.0001, lng: first.lng,
  });
  assert.equal(again.status, 201, JSON.stringify(again.data));
  const dupId = again.data.id;

  const console_ = await newPage({ viewport: { width: 1280, height: 860 } });
  await signIn(console_, 'operator');
  await console_.waitForURL(/console\.html/);
  await console_.waitForSelector(`tr[data-case-id="${caseId}"]`);
  await console_.waitForSelector(`tr[data-case-id="${dupId}"]`);
  await shot(console_, 'console-queue');

  // The overdue board: nothing is late yet.
  await console_.click('#tab-overdue');
  await console_.waitForSelector('#view-overdue:not([hidden]) #overdue-summary:not(:empty)');
  await shot(console_, 'console-overdue');

  // Early warning: a third and a fourth report of greenway signs in the same quiet cell within
  // days are a cluster. The alert names its cases and says why in words; acting on it needs a
  // word on what is done.
  let third;
  for (const [dlat, words] of [[-0.0001, '绿道 3 号标识牌旁边的另一块牌子也被撞歪了。'], [0.0002, '绿道入口处的指示牌也倒了。']]) {
    third = await api(app.base, 'POST', '/api/reports', null, {
      category: 'landscape.greenway_sign', description: words, lat: first.lat + dlat, lng: first.lng,
    });
    assert.equal(third.status, 201, JSON.stringify(third.data));
  }
  await console_.click('#tab-alerts');
  await console_.waitForSelector('#alerts-table tr[data-alert-id] a');
  assert.equal(await console_.locator('#alerts-table tr[data-alert-id]').count(), 1);
  await shot(console_, 'console-alerts');
  await console_.click('#alerts-table tr[data-alert-id] a');
  await console_.waitForSelector('#alert-body:not([hidden]) #alert-evidence li');
  assert.equal(await console_.locator('#alert-evidence li').count(), 4);
  assert.match(await console_.textContent('#alert-explanation'), /3 天内 4 件/);
  await console_.waitForSelector('#alert-status [data-alert-status="new"]');
  await console_.click('#alert-actions button[data-action="act"]');
  await console_.waitForSelector('#alert-note-error:not([hidden])');
  await console_.fill('#alert-note', '通知园林所今天统一检查这一段绿道的标识牌。');
  await console_.click('#alert-actions button[data-action="act"]');
  await console_.waitForSelector('#alert-status [data-alert-status="acting"]');
  await console_.waitForSelector('#alert-trail li[data-action="act"] .alert-note');
  await shot(console_, 'console-alert');
  // An evidence link opens the case in the console.
  await console_.click(`#alert-evidence a[href="#case/${third.data.id}"]`);
  await console_.waitForSelector('#view-case:not([hidden]) #case-body:not([hidden])');

  // The duplicate: a rejection needs a reason (the panel says so before anything is sent), and
  // the merge panel compares it with the first case, side by side and on a small map.
  await console_.goto(`${app.base}/console.html#case/${dupId}`);
  await console_.waitForSelector('#duplicates:not([hidden])');
  await console_.click('button[data-move="reject"]');
  await console_.waitForSelector('#move-panel:not([hidden])');
  assert.ok(await console_.$eval('#move-reason', (box) => box.required), 'a rejection requires a reason');
  await console_.click('#move-confirm');
  await console_.waitForSelector('#move-reason-error:not([hidden])');
  await console_.keyboard.press('Escape');
  await console_.waitForSelector('#move-panel', { state: 'hidden' });
  await console_.click('button[data-move="merge"]');
  await console_.waitForSelector('#merge-section:not([hidden])');
  assert.equal(await console_.inputValue('input[name="merge-parent"]:checked'), caseId, 'the probable duplicate is the main case offered');
  assert.ok(!(await console_.$eval('#move-reason', (box) => box.required)), 'a merge needs no reason');
  await console_.waitForSelector('#merge-compare .compare-card');
  await console_.waitForSelector('#merge-map-figure:not([hidden]) #merge-map path.map-cell-hit');
  await shot(console_, 'console-merge');
  await console_.click('#move-confirm');
  await console_.waitForSelector('#case-status[data-status="merged"]');

  await console_.goto(`${app.base}/console.html#case/${caseId}`);
  await console_.click('button[data-move="accept"]');
  await console_.waitForSelector('#case-status[data-status="accepted"]');
  await console_.click('#dispatch-open');
  await console_.waitForSelector('#routing-suggestion:not(:empty)');
  assert.equal(await console_.inputValue('#dispatch-department'), 'gardens', 'the routing suggestion is preselected');
  await shot(console_, 'console-dispatch');
  await console_.click('#dispatch-confirm');
  await console_.waitForSelector('#case-status[data-status="dispatched"]');
  await until('the department webhook', () => department.received.find((m) => m.body?.type === 'case.dispatched'));

  // The city centre corrects the category (the sign turned out to be a fallen tree): the panel
  // asks for the right category and a reason; the case keeps its status and its department, and
  // its trail says what changed.
  await console_.click('button[data-move="correct"]');
  await console_.waitForSelector('#correct-section:not([hidden])');
  assert.ok(await console_.$eval('#move-reason', (box) => box.required), 'a correction requires a reason');
  await console_.selectOption('#correct-category', 'landscape.fallen_tree');
  await console_.fill('#move-reason', '现场是倒伏的树木压坏了标识牌，按树木倒伏处理');
  await shot(console_, 'console-correct');
  await console_.click('#move-confirm');
  await console_.waitForSelector('#case-facts :text("树木倒伏")');
  await console_.waitForSelector('#audit-trail :text("类别：")');
  const corrected = await api(app.base, 'GET', `/api/cases/${caseId}`, operator);
  assert.equal(corrected.data.case.category, 'landscape.fallen_tree');
  assert.equal(corrected.data.case.status, 'dispatched', 'a correction keeps the status');
  assert.equal(corrected.data.events.at(-1).type, 'correct');

  // ---- the department's desk signs for it
  const desk = await newPage({ viewport: { width: 1024, height: 768 } });
  await signIn(desk, 'gardens');
  await desk.waitForURL(/desk\.html/);
  await desk.waitForSelector(`[data-case-id="${caseId}"]`);
  await shot(desk, 'desk-list');
  await desk.click(`[data-case-id="${caseId}"] a, [data-case-id="${caseId}"] button`);
  await desk.click('button[data-move="sign_for"]');
  if (await desk.isVisible('#move-confirm')) await desk.click('#move-confirm');
  await desk.waitForSelector('#case-status[data-status="signed_for"]');
  await shot(desk, 'desk-signed');
  // The form asks for what the server says each move needs: hours for an extension, photos for a result.
  await desk.click('button[data-move="request_extension"]');
  await desk.waitForSelector('#move-form:not([hidden]) #hours-field:not([hidden])');
  assert.ok(await desk.isHidden('#photos-field'), 'an extension carries no photos');
  assert.ok(await desk.$eval('#move-note', (box) => box.required), 'an extension requires a reason');
  await desk.click('button[data-move="handle"]');
  await desk.waitForSelector('#move-form:not([hidden]) #photos-field:not([hidden])');
  assert.ok(await desk.isHidden('#hours-field'), 'a result asks for no hours');
  await shot(desk, 'desk-handle-form');
  await desk.click('#move-cancel');
  await desk.waitForSelector('#move-form', { state: 'hidden' });

  // ---- the department's own system reports the result by a signed callback
  const result = signed(secret, {
    case_id: caseId, action: 'handled', note: '已更换新标识牌',
    evidence: [{ data: Buffer.from(jpeg).toString('base64'), caption: '新标识牌' }],
  });
  const cb = await fetch(`${app.base}/api/callbacks/gardens`, { method: 'POST', headers: result.headers, body: result.body });
  assert.equal(cb.status, 200, await cb.text());

  // ---- the operator verifies and closes
  await console_.goto(`${app.base}/console.html#case/${caseId}`);
  await console_.waitForSelector('#case-status[data-status="handled"]');
  await console_.click('button[data-move="verify_pass"]');
  if (await console_.isVisible('#move-confirm')) await console_.click('#move-confirm');
  await console_.waitForSelector('#case-status[data-status="verified"]');
  await console_.click('button[data-move="close"]');
  if (await console_.isVisible('#move-confirm')) await console_.click('#move-confirm');
  await console_.waitForSelector('#case-status[data-status="closed"]');
  const trail = await console_.locator('#audit-trail > li').count();
  assert.ok(trail >= 7, `the audit trail has every step (${trail})`);
  await shot(console_, 'console-closed');
  // The same case on a tablet held upright.
  await console_.setViewportSize({ width: 768, height: 1024 });
  await shot(console_, 'console-tablet');
  await console_.setViewportSize({ width: 1280, height: 860 });

  // ---- the citizen rates, on the phone that reported (the secret is remembered there)
  await phone.goto(`${app.base}/track.html?code=${code}`);
  await phone.waitForSelector('#rating:not([hidden])');
  assert.notEqual(await phone.inputValue('#rating-secret'), '');
  await phone.check('input[name=rating][value=satisfied]');
  await shot(phone, 'track-rating');
  await phone.click('#rating-submit');
  await phone.waitForSelector('#rating-done:not([hidden])');
  const rated = await api(app.base, 'GET', `/api/reports/${code}`);
  assert.equal(rated.data.status, 'evaluated');
  // Closed: every step done, the rating above the case, the newest step first, every step in
  // words (never "status changed to", never a staff channel such as the console).
  assert.equal(await phone.locator('#case-steps .step.is-done').count(), 4);
  const ratingTop = (await phone.locator('#rating').boundingBox()).y;
  const caseTop = (await phone.locator('#case').boundingBox()).y;
  assert.ok(ratingTop < caseTop, 'the rating comes first once the case is closed');
  const steps = await phone.locator('#timeline .tl-what').allTextContents();
  assert.ok(steps.length >= 6, `every public step is told (${steps.length})`);
  assert.equal(steps[0], '收到满意度评价', `the newest step first: ${steps}`);
  assert.equal(steps.at(-1), '反映已收到并登记', `the report itself last: ${steps}`);
  const timelineText = await phone.locator('#timeline').innerText();
  assert.ok(!/状态更新为|工作台|渠道/.test(timelineText), `every step in words: ${timelineText}`);
  await shot(phone, 'track-rated');
  // The merged report's reporter follows the case it joined, and is told who rates it.
  await phone.goto(`${app.base}/track.html?code=${again.data.tracking_code}`);
  await phone.waitForSelector('#case:not([hidden]) #case-badge');
  await phone.waitForSelector('#rating-done:not([hidden])');
  assert.match(await phone.textContent('#case-explain'), /合并/);
  assert.match(await phone.textContent('#rating-done'), /最先反映/);
  assert.ok(await phone.locator('#rating-form').isHidden(), 'no rating form the server would refuse');
  await shot(phone, 'track-merged');

  // ---- the dashboard
  await console_.goto(`${app.base}/dashboard.html`);
  await console_.waitForSelector('#indicator-chart');
  await console_.waitForSelector('#cell-map path, #cell-map polygon');
  await shot(console_, 'dashboard');
  // The map by open early-warning alerts: the cell of the one raised above, and only it.
  await console_.selectOption('#map-metric', 'alerts');
  await console_.waitForSelector(`#cell-map path[data-code="${first.grid_code}"]`);
  await until('the map table to list the alert\'s cell', async () =>
    (await console_.locator('#map-table tbody tr').count()) === 1);
  assert.equal((await console_.textContent('#map-table tbody tr td.mono')).trim(), first.grid_code);
  assert.equal((await console_.textContent('#map-table tbody tr td.num')).trim(), '1');
  await shot(console_, 'dashboard-alerts');

  // A QR sign: /q/{asset} lands on the report page bound to the asset, with the problems that
  // fit it one tap away; the tap chooses the category and the place is the asset's.
  const assets = await api(app.base, 'GET', '/api/assets?area=350203001');
  const sign = assets.data.assets.find((a) => a.asset.kind === 'greenway_marker').asset;
  await phone.goto(`${app.base}/q/${sign.id}`);
  await phone.waitForSelector('#asset-card:not([hidden]) button.asset-category');
  assert.equal((await phone.textContent('#asset-name')).trim(), sign.name);
  // The first fitting category is chosen already; a tap on another one chooses that instead.
  const fits = await phone.$$eval('button.asset-category', (bs) => bs.map((b) => b.dataset.code));
  assert.ok(await phone.isChecked(`input[name=category][value="${fits[0]}"]`));
  await phone.click(`button.asset-category[data-code="${fits[1]}"]`);
  assert.ok(await phone.isChecked(`input[name=category][value="${fits[1]}"]`));
  await until('the asset\'s place in the form', async () => (await phone.inputValue('#lat')) !== '');
  assert.ok(Math.abs(Number(await phone.inputValue('#lat')) - sign.lat) < 1e-6); // ~0.1 m
  await phone.waitForSelector('#grid-result p.strong');
  await shot(phone, 'qr-landing');
  // A sign that is not in the registry: the site's page, styled, with a way to report anyway.
  const unknown = await phone.goto(`${app.base}/q/NOPE-0000`);
  assert.equal(unknown.status(), 404);
  await phone.waitForSelector('header.site-header .brand');
  const styled = await phone.evaluate(() => getComputedStyle(document.querySelector('.btn-primary')).backgroundColor);
  assert.notEqual(styled, 'rgba(0, 0, 0, 0)', 'the unknown-sign page has the site stylesheet');
  await shot(phone, 'qr-unknown');
  // The browser reports the page's own 404 as a console error: that one is the point here.
  const own404 = failures.findIndex((f) => f.includes('/q/NOPE-0000') && f.includes('404'));
  if (own404 >= 0) failures.splice(own404, 1);

  // The report page in English, as a visitor who switches sees it.
  await phone.goto(`${app.base}/`);
  await phone.click('#lang-switch');
  await phone.waitForSelector('html[lang=en]');
  await phone.waitForSelector('input[name=category]');
  await shot(phone, 'report-form-en');
  // The switch stays on the header's one line.
  const header = await phone.locator('#lang-switch').boundingBox();
  assert.ok(header.height < 60, `the 中文 button is one line high (${header.height}px)`);

  // A browser that prefers English opens in English, with no choice stored; the choice, once
  // made, is remembered over the browser's.
  const english = await newPage({ locale: 'en-GB', viewport: { width: 390, height: 844 } });
  await english.goto(`${app.base}/`);
  await english.waitForSelector('html[lang=en]');
  assert.match(await english.textContent('#lang-switch'), /中文/);
  await english.click('#lang-switch');
  await english.waitForSelector('html[lang=zh-CN]');
  await english.reload();
  await english.waitForSelector('html[lang=zh-CN]');

  assert.deepEqual(outside, [], 'no page loads anything from outside the app');
  assert.deepEqual(barriers, [], 'no serious accessibility barrier (axe-core, WCAG 2.1 AA)');
  assert.deepEqual(failures, [], 'no script errors');
  console.log(`browser flow passed: report ${code}, case ${caseId}; screenshots in ${shots}`);
} catch (err) {
  console.error(err);
  console.error(`--- host log ---\n${app.log().slice(-4000)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  department.close();
  app.stop();
}
