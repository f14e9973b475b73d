import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sumMetric } from './admin-sampler.js';

const TEXT = `# HELP switchyard_active_connections Client connections open per listener
# TYPE switchyard_active_connections gauge
switchyard_active_connections{listener="web"} 12
switchyard_active_connections{listener="api"} 3
switchyard_active_connections_total 99
switchyard_workers_resident_memory_bytes 104857600
process_resident_memory_bytes{worker="primary"} 52428800
process_resident_memory_bytes{worker="1"} 70000000
`;

test('sums every series of a metric, and only that metric', () => {
  assert.equal(sumMetric(TEXT, 'switchyard_active_connections'), 15);
  assert.equal(sumMetric(TEXT, 'switchyard_workers_resident_memory_bytes'), 104857600);
  assert.equal(sumMetric(TEXT, 'process_resident_memory_bytes', 'worker="primary"'), 52428800);
  assert.equal(sumMetric(TEXT, 'process_resident_memory_bytes'), 122428800);
  assert.equal(sumMetric(TEXT, 'switchyard_missing'), null);
});
