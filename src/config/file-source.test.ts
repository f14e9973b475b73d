import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FileConfigSource } from './file-source.js';

function tmpFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'swy-src-')), 'c.yaml');
  writeFileSync(path, 'a: 1\n');
  return path;
}

test('a burst of writes is reported once, after the debounce', async () => {
  const path = tmpFile();
  let changes = 0;
  const stop = new FileConfigSource(path, { debounceMs: 100, pollMs: 60_000 }).watch(() => changes++);
  try {
    for (let i = 0; i < 5; i++) { writeFileSync(path, `a: ${i + 2}\n`); await sleep(10); }
    await sleep(400);
    assert.equal(changes, 1);
  } finally {
    stop();
  }
});

test('a file replaced by rename (as editors and config managers do) is reported', async () => {
  const path = tmpFile();
  let changes = 0;
  const stop = new FileConfigSource(path, { debounceMs: 50, pollMs: 60_000 }).watch(() => changes++);
  try {
    writeFileSync(`${path}.new`, 'a: 9\n');
    renameSync(`${path}.new`, path);
    await sleep(300);
    assert.equal(changes, 1);
  } finally {
    stop();
  }
});

test('without filesystem events the poll alone finds a change, and nothing when the file is untouched', async () => {
  const path = tmpFile();
  let changes = 0;
  const stop = new FileConfigSource(path, { debounceMs: 10, pollMs: 50, fsEvents: false }).watch(() => changes++);
  try {
    await sleep(300);
    assert.equal(changes, 0, 'an untouched file is not reported');
    writeFileSync(path, 'a: 22\n');
    await sleep(300);
    assert.equal(changes, 1);
  } finally {
    stop();
  }
});

test('one save is reported once, not again by the poll (a rejected config is retried only when saved again)', async () => {
  const path = tmpFile();
  let changes = 0;
  const stop = new FileConfigSource(path, { debounceMs: 20, pollMs: 150 }).watch(() => changes++);
  try {
    writeFileSync(path, 'a: 3\n');
    await sleep(600);
    assert.equal(changes, 1, 'the filesystem event reported it; the poll must not report the same save');
    writeFileSync(path, 'a: 3\n'); // saved again, same content
    await sleep(600);
    assert.equal(changes, 2);
  } finally {
    stop();
  }
});

test('a save between load() and watch() is reported (the primary watches only once its workers are up)', async () => {
  const path = tmpFile();
  const source = new FileConfigSource(path, { debounceMs: 20, pollMs: 50, fsEvents: false });
  await source.load().catch(() => undefined); // the content is not a config; only the identity matters
  writeFileSync(path, 'a: 22\n'); // another size: a new identity even within one mtime tick
  let changes = 0;
  const stop = source.watch(() => changes++);
  try {
    await sleep(300);
    assert.equal(changes, 1);
  } finally {
    stop();
  }
});

test('watch: false (start --no-watch) reports no save, neither by event nor by poll', async () => {
  const path = tmpFile();
  let changes = 0;
  const stop = new FileConfigSource(path, { debounceMs: 10, pollMs: 50, watch: false }).watch(() => changes++);
  try {
    writeFileSync(path, 'a: 23\n');
    await sleep(300);
    assert.equal(changes, 0);
  } finally {
    stop();
  }
});
