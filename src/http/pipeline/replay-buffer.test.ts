import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from './replay-buffer.js';

test('a body read to the end within the limit is replayable, byte for byte, from copies', () => {
  const b = new ReplayBuffer(10);
  const chunk = Buffer.from('hello');
  b.add(chunk);
  assert.equal(b.replayable, false, 'not before the end');
  b.add(Buffer.from('world'));
  b.end();
  chunk.fill(0); // the parser reuses its buffer
  assert.equal(b.replayable, true);
  assert.equal(b.body().toString(), 'helloworld');
});

test('a body over the limit is dropped and never replayable', () => {
  const b = new ReplayBuffer(4);
  b.add(Buffer.from('abc'));
  b.add(Buffer.from('de'));
  b.end();
  assert.equal(b.chunks, null);
  assert.equal(b.replayable, false);
});
