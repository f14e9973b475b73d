import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bulkhead } from '../../resilience/bulkhead.js';
import type { RoutedRequest } from '../proxy.js';
import { admit, needsAdmission, type AdmissionFilter } from './admission.js';
import { admissionFilters } from './filters.js';

/** A fake transport: records what the admission stage told it to do. */
function transport() {
  const calls: string[] = [];
  return { calls, admitted: () => calls.push('admitted'), refused: (code: string, detail: string) => calls.push(`${code}: ${detail}`) };
}

function routed(bulkhead: Bulkhead | null, route = 'r'): RoutedRequest {
  return { route, rateLimits: [], service: { name: 'api', bulkhead, counters: { bulkheadRejected: 0 } } } as unknown as RoutedRequest;
}

test('no filter and no bulkhead: the stage is skipped; admit() admits at once', () => {
  const r = routed(null);
  assert.equal(needsAdmission(r), false);
  const t = transport();
  assert.equal(admit(r, t.admitted, t.refused), null);
  assert.deepEqual(t.calls, ['admitted']);
});

test('the bulkhead admits while it has slots, then refuses with SWY_BULKHEAD_FULL and counts it', () => {
  const r = routed(new Bulkhead({ maxConcurrent: 1 }));
  assert.equal(needsAdmission(r), true);
  const t = transport();
  admit(r, t.admitted, t.refused);
  admit(r, t.admitted, t.refused);
  assert.deepEqual(t.calls, ['admitted', 'SWY_BULKHEAD_FULL: service api is at its limit (full)']);
  assert.equal(r.service.counters.bulkheadRejected, 1);
});

test('a registered filter runs first: its refusal is answered and no bulkhead slot is taken', () => {
  const onlyRouteA: AdmissionFilter = {
    name: 'only-a',
    check: (r) => r.route === 'a' ? null : { code: 'SWY_NO_ROUTE', detail: `route ${r.route} is closed` },
  };
  admissionFilters.push(onlyRouteA);
  try {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    const t = transport();
    assert.equal(needsAdmission(routed(null, 'b')), true);
    admit(routed(bulkhead, 'b'), t.admitted, t.refused);
    assert.equal(bulkhead.active, 0, 'refused before the bulkhead');
    admit(routed(bulkhead, 'a'), t.admitted, t.refused);
    assert.deepEqual(t.calls, ['SWY_NO_ROUTE: route b is closed', 'admitted']);
    assert.equal(bulkhead.active, 1);
  } finally {
    admissionFilters.splice(admissionFilters.indexOf(onlyRouteA), 1);
  }
});
