import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SEMI_SPACE_MIB, workerExecArgv } from './worker-flags.js';

test('worker flags: the young generation is capped, after the primary\'s own arguments', () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], undefined), ['--enable-source-maps', `--max-semi-space-size=${SEMI_SPACE_MIB}`]);
  assert.deepEqual(workerExecArgv([], ''), [`--max-semi-space-size=${SEMI_SPACE_MIB}`]);
});

test('worker flags: a semi-space size the operator gave (arguments or NODE_OPTIONS) is kept, not overridden', () => {
  assert.deepEqual(workerExecArgv(['--max-semi-space-size=32'], undefined), ['--max-semi-space-size=32']);
  assert.deepEqual(workerExecArgv([], '--trace-gc --max-semi-space-size=1'), []);
  assert.deepEqual(workerExecArgv(['--max_semi_space_size=8'], undefined), ['--max_semi_space_size=8'], 'V8\'s underscore spelling counts too');
  assert.deepEqual(workerExecArgv(['--max-semi-space-size', '8'], undefined), ['--max-semi-space-size', '8'], 'and the value as its own argument');
});
