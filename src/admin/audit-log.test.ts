import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from './audit-log.js';

test('entries are JSON lines; a new day rotates the file and files past the retention are deleted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'swy-audit-'));
  const path = join(dir, 'audit.log');
  writeFileSync(`${path}.2026-01-01`, '{}\n'); // far past a 90-day retention
  writeFileSync(`${path}.2026-11-20`, '{}\n'); // recent
  let now = new Date('2026-11-23T23:59:00Z');
  const log = new AuditLog(path, 90, () => now);
  log.record({ action: 'drain', client: '127.0.0.1', target: 'app/10.0.0.1:80', result: 'ok' });
  const first = JSON.parse(readFileSync(path, 'utf8').trim()) as Record<string, string>;
  assert.equal(first.action, 'drain');
  assert.equal(first.time, '2026-11-23T23:59:00.000Z');
  now = new Date('2026-11-24T00:01:00Z');
  log.record({ action: 'reload', client: '127.0.0.1', result: 'ok' });
  assert.deepEqual(readdirSync(dir).sort(), ['audit.log', 'audit.log.2026-11-20', 'audit.log.2026-11-23']);
  assert.match(readFileSync(join(dir, 'audit.log.2026-11-23'), 'utf8'), /"drain"/);
  assert.match(readFileSync(path, 'utf8'), /"reload"/);
});
