import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TemporaryBlockList } from './block-list.js';

test('blocks are canonical, bounded in count and lifetime, and expire', () => {
  const b = new TemporaryBlockList({ max: 2, maxTtlMs: 60_000 });
  const a = b.add('2001:DB8::/32', 10_000, 0, 'admin', 'abuse');
  assert.ok(a.ok && a.block.cidr === '2001:db8::/32' && a.block.expiresAt === 10_000);
  assert.deepEqual(b.add('10.0.0.1/8', 1000, 0, 'admin'), { ok: false, status: 400, error: '"10.0.0.1/8" has bits set past /8 (did you mean 10.0.0.0/8?)' });
  assert.equal((b.add('10.0.0.0/8', 120_000, 0, 'admin') as { status: number }).status, 400, 'over maxTtl');
  assert.ok(b.add('10.0.0.0/8', 5000, 0, 'admin').ok);
  assert.equal((b.add('192.0.2.0/24', 5000, 0, 'admin') as { status: number }).status, 409, 'full');
  const again = b.add('10.0.0.0/8', 20_000, 0, 'spike');
  assert.ok(again.ok && again.replaced, 'the same prefix again replaces its block, even when full');
  assert.deepEqual(b.list(15_000).map((x) => x.cidr), ['10.0.0.0/8']);
  assert.ok(b.add('192.0.2.0/24', 5000, 15_000, 'admin').ok, 'an expired block made room');
  assert.equal(b.remove('2001:db8:0::/32'), false, 'already expired and pruned');
  assert.equal(b.remove('10.0.0.0/8'), true);
  assert.equal(b.remove('10.0.0.0/8'), false);
});
