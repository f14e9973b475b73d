// engine-independent: this file sets its own engines or starts no data plane, so the suite runs it once (package.json "test").
/*
 * `switchyard lab anycast up --nodes 2` then `down`, as a user runs them: two CLI processes sharing
 * only the runtime directory. The lab must come up (both nodes announced, the VIP answering from
 * the client namespace), and `down` must stop every process `up` started and delete every
 * namespace. Real namespaces, BIRD and Switchyard; skipped unless root with bird and nft.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { labUnavailable } from '../../src/lab/netns.js';
import { alive, readState, tearDown, type LabState } from '../../src/lab/lab-state.js';
import { CLI } from './harness.js';

const run = promisify(execFile);
const unavailable = labUnavailable(['ip', 'bird', 'nft']);
const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').map((l) => l.split(' ')[0]).filter(Boolean);

test('lab anycast up --nodes 2, then down from another process: everything started is stopped, every namespace deleted', { skip: unavailable, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-labcli-'));
  let state: LabState | undefined;
  try {
    const up = await run(process.execPath, [CLI, 'lab', 'anycast', 'up', '--nodes', '2', '--dir', dir], { timeout: 40_000 });
    state = readState(dir);
    assert.ok(state !== undefined, 'up leaves a state file');
    assert.match(up.stdout, /2 Switchyard nodes behind 198\.51\.100\.10:8080/);
    assert.deepEqual(state.namespaces.slice().sort(), ['c', 'n1', 'n2', 'r'].map((s) => `${state!.prefix}-${s}`));
    assert.ok(alive(state.holderPid), 'the holder keeps the lab after up exited');
    const route = execFileSync('ip', ['-n', `${state.prefix}-r`, 'route', 'show', '198.51.100.10'], { encoding: 'utf8' });
    assert.match(route, /dev n1/);
    assert.match(route, /dev n2/);
    const answer = execFileSync('ip', ['netns', 'exec', `${state.prefix}-c`, process.execPath, '-e',
      "fetch('http://198.51.100.10:8080/').then(async (r) => console.log(r.status, await r.text()))"], { encoding: 'utf8', timeout: 10_000 });
    assert.match(answer, /^200 .*"backend"/);
    const again = await run(process.execPath, [CLI, 'lab', 'anycast', 'up', '--dir', dir]).then(() => 0, (e: { code: number; stderr: string }) => (assert.match(e.stderr, /already up/), e.code));
    assert.equal(again, 1, 'a second up is refused while a lab is up');

    const down = await run(process.execPath, [CLI, 'lab', 'anycast', 'down', '--dir', dir], { timeout: 30_000 });
    assert.match(down.stdout, /lab down/);
    assert.deepEqual(namespaces().filter((n) => n.startsWith(`${state!.prefix}-`)), [], 'every namespace is deleted');
    const left = Object.entries(state.pids).filter(([, pid]) => alive(pid));
    assert.deepEqual(left, [], 'every process up started is stopped');
    assert.equal(alive(state.holderPid), false);
    assert.equal(readState(dir), undefined, 'the state file is removed');
  } finally {
    await tearDown(dir);
    rmSync(dir, { recursive: true, force: true });
  }
});
