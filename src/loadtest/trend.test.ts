import { test } from 'node:test';
import assert from 'node:assert/strict';
import { leastSquares } from './trend.js';

test('least squares: slope, intercept and r² of a line, a noisy line and degenerate inputs', () => {
  const line = leastSquares([0, 1, 2, 3].map((x) => ({ x, y: 5 + 2 * x })))!;
  assert.deepEqual([line.slope, line.intercept, line.r2, line.n], [2, 5, 1, 4]);
  const noisy = leastSquares([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 2 }, { x: 3, y: 4 }])!;
  assert.ok(Math.abs(noisy.slope - 0.8) < 1e-9);
  assert.ok(noisy.r2 > 0.5 && noisy.r2 < 1);
  assert.equal(leastSquares([{ x: 1, y: 1 }]), null);
  assert.equal(leastSquares([{ x: 1, y: 1 }, { x: 1, y: 2 }]), null);
  assert.equal(leastSquares([{ x: 0, y: 7 }, { x: 1, y: 7 }])!.slope, 0);
});
