import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHolderPid, readState, tearDown, writeHolderPid, writeState } from './lab-state.js';

test('lab state: written and read back; tearDown of a lab whose holder is gone removes the state, the PID file and the lab directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-labstate-'));
  const labDir = join(dir, 'lab');
  mkdirSync(labDir);
  try {
    assert.equal(readState(dir), undefined);
    writeHolderPid(dir, 2 ** 22 + 12345); // above pid_max's default: no such process
    assert.equal(readHolderPid(dir), 2 ** 22 + 12345);
    writeState(dir, { holderPid: 2 ** 22 + 12345, prefix: 'syx', labDir, namespaces: [], pids: {}, nodes: 2, resilient: false });
    assert.equal(readState(dir)?.nodes, 2);
    assert.deepEqual(await tearDown(dir), []);
    assert.equal(readState(dir), undefined);
    assert.equal(readHolderPid(dir), undefined);
    assert.equal(existsSync(labDir), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
