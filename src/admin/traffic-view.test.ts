import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounters, emptyTraffic, type CountersSnapshot } from '../observe/stats.js';
import { trafficView } from './traffic-view.js';

function counters(n: number): CountersSnapshot {
  const c = emptyCounters();
  c.listeners.web = { accepted: 10 * n, active: n, bytesIn: 1000 * n, bytesOut: 4000 * n, proxyErrors: n === 0 ? {} : { SWY_NO_ROUTE: 3 * n }, routes: { api: 20 * n }, engines: { fast: 1 } };
  const t = emptyTraffic();
  t.requests = 20 * n; t.byClass[2] = 18 * n; t.byClass[5] = 2 * n;
  c.services.app = { traffic: t, retries: n, retryBudgetExhausted: 0, hedges: 0, hedgesWon: 0, bulkheadRejected: 5 * n, degradedStale: 0, degradedErrorPage: 0, panicPicks: 0, codes: { 200: 18 * n, 503: 2 * n } };
  c.tls = { full: 2 * n, resumed: 6 * n };
  return c;
}

test('traffic view: per-second rates and window counts from the two ends of the window', () => {
  const v = trafficView(counters(1), counters(3), 10, [{ name: 'web', address: '127.0.0.1:80', protocol: 'http' }, { name: 'idle', address: '127.0.0.1:81', protocol: 'tcp' }]);
  const web = v.listeners[0];
  assert.equal(web.active, 3);
  assert.equal(web.acceptedPerS, 2);
  assert.equal(web.bytesOutPerS, 800);
  assert.deepEqual(web.proxyAnswers, { SWY_NO_ROUTE: 6 });
  assert.deepEqual(web.routes, [{ name: 'api', rps: 4 }]);
  assert.deepEqual(v.listeners[1], { name: 'idle', address: '127.0.0.1:81', protocol: 'tcp', active: 0, acceptedPerS: 0, bytesInPerS: 0, bytesOutPerS: 0, proxyAnswers: {}, routes: [] });
  assert.deepEqual(v.errors[0].byStatus, { '2xx': 3.6, '3xx': 0, '4xx': 0, '5xx': 0.4, failed: 0 });
  assert.equal(v.errors[0].causes.bulkheadRejected, 10);
  assert.deepEqual(v.errors[0].codes, { 200: 36, 503: 4 });
  assert.equal(v.tls.resumption, 0.75);
});

test('traffic view: no handshakes gives no resumption ratio; a service new in the window counts from zero', () => {
  const v = trafficView(emptyCounters(), counters(1), 1, []);
  assert.equal(trafficView(emptyCounters(), emptyCounters(), 1, []).tls.resumption, null);
  assert.equal(v.errors[0].causes.retries, 1);
});
