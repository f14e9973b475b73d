import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import type { Page } from 'playwright-core';
import { baseConfig, freePort, sleep, startSwitchyard, type Switchyard } from './harness.js';
import { startControlBackend, type ControlBackend } from '../support/control-backend.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';

/*
 * The dashboard in a real (headless) Chromium against a real node: live states from the event
 * stream, a drain clicked in the page that really stops traffic (and is audited), and the token form.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const TOKEN = 'dashboard-token-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'swy-dashboard-'));
const agent = new Agent({ connections: 4 });
let backends: ControlBackend[] = [];
let sy: Switchyard | undefined;
let locked: Switchyard | undefined;
let browser: TestBrowser | undefined;
let admin: string;
let config: Record<string, unknown>;
/** Page errors (Content-Security-Policy violations included), requests that left the admin origin or put the token in a URL, checked at the end of each test. */
const pageErrors: string[] = [];
const foreignRequests: string[] = [];
const tokenInUrl: string[] = [];

before(async () => {
  backends = await Promise.all(['b0', 'b1', 'b2'].map((n) => startControlBackend(n)));
  const adminPort = await freePort();
  admin = `http://127.0.0.1:${adminPort}`;
  config = baseConfig(await freePort(), {
    app: {
      balancer: { algorithm: 'round-robin' },
      healthCheck: { path: '/health', interval: '200ms', timeout: '500ms', unhealthyThreshold: 2, healthyThreshold: 2 },
      backends: backends.map((b, i) => ({ address: b.address, zone: i < 2 ? 'a' : 'b' })),
    },
  }, [{ name: 'everything', match: { path: { prefix: '/' } }, service: 'app' }], { workers: 2, admin: { address: `127.0.0.1:${adminPort}`, auditLog: { path: join(dir, 'audit.log') } } });
  sy = await startSwitchyard(config);
  // "ready" is logged before the admin listener binds (main.ts starts it after the primary).
  await sy.waitForLog(/admin listening/, 10_000);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await sy?.stop();
  await locked?.stop();
  await agent.close();
  await Promise.all(backends.map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** Polls `read` every 100 ms until `ok` holds; fails after `ms` with the last value seen. */
async function until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | string = 'nothing read';
  while (Date.now() < deadline) {
    try {
      const v = await read();
      if (ok(v)) return v;
      last = v;
    } catch (e) { last = (e as Error).message; }
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
}

function watch(page: Page, origin: string): void {
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The page runs under the admin listener's CSP: anything it would block shows up here.
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(m.text()); });
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) foreignRequests.push(r.url());
    if (r.url().includes(TOKEN) || /[?&]token=/.test(r.url())) tokenInUrl.push(r.url());
  });
}

const row = (page: Page, key: string) => page.locator(`tr[data-service="app"][data-backend="${key}"]`);
const stateOf = (page: Page, key: string) => row(page, key).locator('[data-field="state"]').textContent({ timeout: 1000 });
const text = (page: Page, selector: string) => page.locator(selector).textContent({ timeout: 1000 });

async function traffic(n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await request(`${sy!.url}/t/${i}`, { dispatcher: agent });
    await r.body.dump();
    statuses.push(r.statusCode);
  }
  return statuses;
}

test('the dashboard shows live backend states; Drain clicked in the page stops traffic and is audited', { timeout: 90_000 }, async () => {
  const page = browser!.page;
  watch(page, admin);
  const doc = await page.goto(`${admin}/`, { timeout: 10_000 });
  assert.match(doc?.headers()['content-security-policy'] ?? '', /frame-ancestors 'none'/, 'the page is served under a CSP');
  assert.equal(doc?.headers()['x-frame-options'], 'DENY');
  await until('#connection to be live', () => text(page, '#connection'), (t) => t === 'live');
  await until('3 backend rows', () => page.locator('tr[data-service="app"]').count(), (n) => n === 3);
  const [b0, b1, b2] = backends;
  for (const b of backends) assert.equal(await stateOf(page, b.address), 'healthy');
  await traffic(30); // some history for the charts
  // The share is over the view's window: a snapshot taken mid-traffic holds only its first requests
  // (a, a, b, a, a: 80%), so wait for one that counted all 30 before reading the page.
  await until('the node to count the 30 requests', async () => {
    const r = await request(`${admin}/api/services`, { dispatcher: agent });
    const { services } = await r.body.json() as { services: { name: string; backends: { requestsTotal: number }[] }[] };
    return services.find((s) => s.name === 'app')?.backends.reduce((n, b) => n + b.requestsTotal, 0) ?? 0;
  }, (n) => n >= 30);
  // Share served per zone (round-robin over a, a, b): a stacked bar and one label per zone. The
  // page may still show the snapshot before, hence the wait for the share of all 30.
  const share = (labels: string[], zone: string) => Number(new RegExp(`^${zone} ([\\d.]+)%$`).exec(labels.find((l) => l.startsWith(`${zone} `)) ?? '')?.[1]);
  const zoneLabels = await until('zone a to have served 2 of 3 (2 of its 3 backends)', () => page.locator('section[data-service="app"] .zone-label').allTextContents(),
    (t) => t.length === 2 && share(t, 'a') > 55 && share(t, 'a') < 78 && share(t, 'b') > 22 && share(t, 'b') < 45);
  assert.deepEqual(zoneLabels.map((l) => l.split(' ')[0]), ['a', 'b']);

  b0.set({ kind: 'status', status: 500 }, 'health');
  await until('b0 to show unhealthy', () => stateOf(page, b0.address), (s) => s === 'unhealthy');
  assert.equal(await row(page, b0.address).locator('[data-field="health"] span').first().textContent(), 'unhealthy');
  // why: the checker's own words, with the time of the change
  assert.match(await row(page, b0.address).locator('[data-field="health"] .reason').textContent() ?? '', /2 consecutive failed checks, last: SWY_HC_STATUS: status 500 [^·]*· \d\d:\d\d:\d\d/);

  await row(page, b1.address).locator('[data-action="drain"]').click({ timeout: 5000 });
  await until('b1 to show draining', () => stateOf(page, b1.address), (s) => s === 'draining');
  await until('b1 to offer Undrain', () => row(page, b1.address).locator('[data-action="undrain"]').count(), (n) => n === 1, 5000);

  const [b1Before, b2Before] = [b1.requests, b2.requests];
  const statuses = await traffic(40);
  assert.deepEqual(new Set(statuses), new Set([200]));
  assert.equal(b1.requests - b1Before, 0, 'a drained backend takes no new requests');
  assert.ok(b2.requests - b2Before > 0, `b2 took ${b2.requests - b2Before}`);

  const audit = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, string>);
  const drain = audit.find((e) => e.action === 'drain' && e.target === `app/${b1.address}`);
  assert.equal(drain?.result, 'ok', JSON.stringify(audit));
  assert.match(drain.userAgent ?? '', /Chrome/, 'the write came from the browser');

  await page.locator('#reload').click({ timeout: 5000 });
  await until('the reload result', () => text(page, '#notice'), (t) => /^reload (unchanged|applied)/.test(t ?? ''));

  await sleep(1500); // one more snapshot, so the charts include the last traffic
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true, timeout: 10_000 });
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreignRequests, [], 'the page loads nothing from outside the admin listener');
});

test('with a token: the API refuses without it, the page asks for it and then shows the data', { timeout: 60_000 }, async () => {
  const adminPort = await freePort();
  const origin = `http://127.0.0.1:${adminPort}`;
  locked = await startSwitchyard(baseConfig(await freePort(), { app: { backends: backends.map((b) => ({ address: b.address })) } }, undefined, {
    admin: { address: `127.0.0.1:${adminPort}`, token: TOKEN, auditLog: { path: join(dir, 'locked-audit.log') } },
  }));
  await locked.waitForLog(/admin listening/, 10_000);
  const r = await request(`${origin}/api/services`, { dispatcher: agent });
  await r.body.dump();
  assert.equal(r.statusCode, 401);

  const page = await browser!.context.newPage();
  watch(page, origin);
  await page.goto(`${origin}/`, { timeout: 10_000 });
  await page.locator('#login').waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await page.locator('tr[data-service]').count(), 0);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-token.png'), timeout: 10_000 });

  await page.locator('#token').fill('wrong-token-0123456789abc');
  await page.locator('#login-submit').click();
  await until('the refusal', () => text(page, '#login-message'), (t) => /refused/.test(t ?? ''));
  assert.ok(await page.locator('#login').isVisible());

  await page.locator('#token').fill(TOKEN);
  await page.locator('#login-submit').click();
  await until('#connection to be live', () => text(page, '#connection'), (t) => t === 'live');
  await until('3 backend rows', () => page.locator('tr[data-service="app"]').count(), (n) => n === 3);
  assert.equal(await page.locator('#login').isVisible(), false);
  assert.equal(await page.evaluate('sessionStorage.getItem("switchyard.adminToken")'), TOKEN);

  // A reload of the page keeps the token for the tab: no second prompt.
  await page.reload({ timeout: 10_000 });
  await until('#connection to be live after a reload', () => text(page, '#connection'), (t) => t === 'live');
  assert.equal(await page.locator('#login').isVisible(), false);
  await page.close();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreignRequests, []);
  assert.deepEqual(tokenInUrl, [], 'the token never goes into a URL');
});

/** The cells of the table `name` as objects keyed by its column heads. */
async function tableRows(page: Page, name: string): Promise<Record<string, string>[]> {
  return page.locator(`table[data-table="${name}"]`).evaluate((t) => {
    const heads = [...t.querySelectorAll('thead th')].map((h) => h.textContent ?? '');
    return [...t.querySelectorAll('tbody tr')].map((tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td, i) => [heads[i], td.textContent ?? ''])));
  }, undefined, { timeout: 1000 });
}

test('a page opened later shows the node\'s history at once, listeners, routes, errors and a config diff, and fits a phone screen', { timeout: 90_000 }, async () => {
  await traffic(30);
  const page = await browser!.context.newPage();
  await page.setViewportSize({ width: 390, height: 844 });
  watch(page, admin);
  await page.goto(`${admin}/`, { timeout: 10_000 });
  await until('#connection to be live', () => text(page, '#connection'), (t) => t === 'live');
  // the node has been up for many seconds: its charts start with that history, not with one point
  const points = Number(await page.locator('section[data-service="app"]').getAttribute('data-points', { timeout: 2000 }));
  assert.ok(points >= 5, `the service charts start with ${points} points`);

  const listeners = await until('the listener row', () => tableRows(page, 'listeners'), (r) => r.length === 1 && Number(r[0]['new/s']) > 0);
  assert.equal(listeners[0].listener, 'web');
  assert.equal(listeners[0].protocol, 'http');
  const routes = await until('the route row with its rate', () => tableRows(page, 'routes'), (r) => r.length === 1 && Number(r[0].rps) > 0);
  assert.deepEqual({ ...routes[0], rps: undefined }, { route: 'everything', match: 'path prefix /', service: 'app', listeners: 'all', rps: undefined });
  const errors = await until('the service row', () => tableRows(page, 'errors'), (r) => r.length === 1 && Number(r[0]['2xx/s']) > 0);
  assert.equal(errors[0].service, 'app');

  // a phone-width page: nothing runs off the right edge (wide tables scroll inside their cards)
  const [scrollWidth, innerWidth] = await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]') as number[];
  assert.ok(scrollWidth <= innerWidth, `page ${scrollWidth} px wide on a ${innerWidth} px screen`);

  // a config change, then its diff in the page
  const services = config.services as { app: { backends: { address: string; weight?: number }[] } };
  services.app.backends[2].weight = 7;
  sy!.writeConfig(config);
  await until('two versions to pick', () => page.locator('#diff-to option').count(), (n) => n >= 2, 15_000);
  await page.locator('#diff-show').click({ timeout: 5000 });
  const diff = await until('the diff', () => text(page, '#config-out'), (t) => /^\+\s+weight: 7$/m.test(t ?? ''));
  assert.match(diff ?? '', /^-\s+weight: 1$/m);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true, timeout: 10_000 });
  await page.close();
  assert.deepEqual(pageErrors, []);
  assert.deepEqual(foreignRequests, []);
});
