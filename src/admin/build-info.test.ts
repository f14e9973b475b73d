import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildCommit } from './build-info.js';

const SHA = '0123456789abcdef0123456789abcdef01234567';

test('buildCommit: the env var wins; a checkout, a worktree and packed refs are read; else unknown', () => {
  assert.equal(buildCommit({ SWITCHYARD_COMMIT: 'ABCDEF1' }, '/nonexistent'), 'abcdef1');
  assert.equal(buildCommit({ SWITCHYARD_COMMIT: 'not a sha' }, '/nonexistent'), 'unknown');
  const repo = mkdtempSync(join(tmpdir(), 'swy-build-'));
  mkdirSync(join(repo, '.git/refs/heads'), { recursive: true });
  writeFileSync(join(repo, '.git/HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(repo, '.git/refs/heads/main'), `${SHA}\n`);
  assert.equal(buildCommit({}, repo), SHA);
  // A worktree: .git is a file; its HEAD names a branch whose ref is packed in the common dir.
  const wt = mkdtempSync(join(tmpdir(), 'swy-build-wt-'));
  mkdirSync(join(repo, '.git/worktrees/wt'), { recursive: true });
  writeFileSync(join(wt, '.git'), `gitdir: ${join(repo, '.git/worktrees/wt')}\n`);
  writeFileSync(join(repo, '.git/worktrees/wt/HEAD'), 'ref: refs/heads/feature\n');
  writeFileSync(join(repo, '.git/worktrees/wt/commondir'), '../..\n');
  writeFileSync(join(repo, '.git/packed-refs'), `# pack-refs\n${SHA.replace('0', 'f')} refs/heads/feature\n`);
  assert.equal(buildCommit({}, wt), SHA.replace('0', 'f'));
  assert.equal(buildCommit({}, mkdtempSync(join(tmpdir(), 'swy-build-none-'))), 'unknown');
});
