import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHolderPid, readState, tearDown, writeHolderPid, writeState, type LabState } from './lab-state.js';

const NO_PID = 2 ** 22 + 12345; // above the default pid_max: no such process

function withDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-labstate-'));
    try { await body(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

test('lab state: written and read back; tearDown of a lab whose holder is gone removes the state, the PID file and the lab directory', withDir(async (dir) => {
  const labDir = mkdtempSync(join(tmpdir(), 'syx-'));
  assert.equal(readState(dir), undefined);
  writeHolderPid(dir, NO_PID);
  assert.equal(readHolderPid(dir), NO_PID);
  writeState(dir, { holderPid: NO_PID, prefix: 'syx', labDir, namespaces: ['syx-r'], pids: {}, nodes: 2, resilient: false });
  assert.equal(readState(dir)?.nodes, 2);
  assert.deepEqual(await tearDown(dir), []);
  assert.equal(readState(dir), undefined);
  assert.equal(readHolderPid(dir), undefined);
  assert.equal(existsSync(labDir), false);
}));

test('lab state: a state naming anything but the lab\'s own directory and namespaces is refused, nothing removed', withDir(async (dir) => {
  const victim = mkdtempSync(join(tmpdir(), 'sy-victim-'));
  try {
    const bad: LabState[] = [
      { holderPid: NO_PID, prefix: 'syx', labDir: victim, namespaces: [], pids: {}, nodes: 1, resilient: false },
      { holderPid: NO_PID, prefix: 'syx', labDir: join(tmpdir(), 'syx-abcdef'), namespaces: ['other-r'], pids: {}, nodes: 1, resilient: false },
      { holderPid: NO_PID, prefix: '../x', labDir: join(tmpdir(), '../x-abcdef'), namespaces: [], pids: {}, nodes: 1, resilient: false },
    ];
    for (const s of bad) {
      writeFileSync(join(dir, 'state.json'), JSON.stringify(s));
      assert.throws(() => readState(dir), /not a lab state/);
      await assert.rejects(tearDown(dir), /not a lab state/);
      assert.equal(existsSync(victim), true);
    }
  } finally {
    rmSync(victim, { recursive: true, force: true });
  }
}));

test('lab state: a runtime directory others can write is not trusted', withDir(async (dir) => {
  chmodSync(dir, 0o777);
  await assert.rejects(tearDown(dir), /writable by no one else/);
  assert.throws(() => writeHolderPid(dir, NO_PID), /writable by no one else/);
}));
