import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { latestConfigBackup, listBackups, pruneBackups } from './backup-dir.js';

const DAY = 86_400_000;

test('backups are listed newest first by the time in their name; .part and foreign entries are ignored; prune keeps the newest', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-bd-'));
  for (const n of ['2026-01-01T00-00-00.000Z-v3', '2026-02-01T10-20-30.500Z-v4', '2026-03-01T00-00-00.000Z-v5.part', 'notes']) mkdirSync(join(dir, 'config', n), { recursive: true });
  const list = await listBackups(dir, 'config');
  assert.deepEqual(list.map((b) => [b.version, new Date(b.at).toISOString()]), [[4, '2026-02-01T10:20:30.500Z'], [3, '2026-01-01T00:00:00.000Z']]);
  assert.equal(await latestConfigBackup(dir), join(dir, 'config', '2026-02-01T10-20-30.500Z-v4'));
  // Everything is older than 30 days at this "now": all but the newest go.
  assert.deepEqual(await pruneBackups(dir, 'config', 30 * DAY, Date.parse('2027-01-01T00:00:00Z')), ['2026-01-01T00-00-00.000Z-v3']);
  assert.deepEqual((await listBackups(dir, 'config')).map((b) => b.version), [4]);
  // A `config backup` DIR is its own latest backup.
  writeFileSync(join(dir, 'config-history.json'), '{}');
  assert.equal(await latestConfigBackup(dir), dir);
});
