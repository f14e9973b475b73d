import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBandwidth, parseBandwidth, parseBytes, parseCount, parseGrowth } from './units.js';

test('counts: plain, separators, k/M/G', () => {
  assert.equal(parseCount('100000', 'q'), 100_000);
  assert.equal(parseCount('100,000', 'q'), 100_000);
  assert.equal(parseCount('100k', 'q'), 100_000);
  assert.equal(parseCount('2M', 'q'), 2_000_000);
  assert.equal(parseCount('1.5G', 'q'), 1.5e9);
  assert.throws(() => parseCount('lots', '--qps'), { code: 'SWY_CLI_USAGE', message: /--qps: cannot read "lots"/ });
  assert.throws(() => parseCount('0', '--qps'), { code: 'SWY_CLI_USAGE' });
});

test('bandwidth: bits per second with units; bytes are refused', () => {
  assert.equal(parseBandwidth('10Gbps', 'b'), 10e9);
  assert.equal(parseBandwidth('500Mbps', 'b'), 500e6);
  assert.equal(parseBandwidth('1.5 Gbit/s', 'b'), 1.5e9);
  assert.equal(parseBandwidth('800kbps', 'b'), 800e3);
  assert.equal(parseBandwidth('1000000', 'b'), 1e6);
  assert.throws(() => parseBandwidth('10GB/s', '--bandwidth'), { code: 'SWY_CLI_USAGE', message: /--bandwidth: cannot read "10GB\/s" \(e\.g\. 10Gbps, 500Mbps\)/ });
  assert.equal(formatBandwidth(10e9), '10 Gbps');
  assert.equal(formatBandwidth(6.5e9), '6.5 Gbps');
  assert.equal(formatBandwidth(500e6), '500 Mbps');
});

test('bytes: binary and decimal units', () => {
  assert.equal(parseBytes('10MiB', 'x'), 10 * 2 ** 20);
  assert.equal(parseBytes('500MB', 'x'), 500e6);
  assert.equal(parseBytes('2 GiB', 'x'), 2 * 2 ** 30);
  assert.throws(() => parseBytes('ten', '--leak-threshold'), { code: 'SWY_CLI_USAGE' });
});

test('growth: the design\'s projections, in time order', () => {
  assert.deepEqual(parseGrowth('5x@3y,2x@1y'), [
    { factor: 2, horizon: '1y', label: 'Year 1' },
    { factor: 5, horizon: '3y', label: 'Year 3' },
  ]);
  assert.deepEqual(parseGrowth('1.5x@6m'), [{ factor: 1.5, horizon: '6m', label: 'Month 6' }]);
  assert.throws(() => parseGrowth('2x'), { code: 'SWY_CLI_USAGE', message: /--growth: cannot read "2x"/ });
});
