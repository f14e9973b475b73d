import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionIdle } from './session-idle.js';

function fakeSession() {
  return { closed: false, closes: 0, close() { this.closes++; this.closed = true; } };
}

test('a session with no open stream is closed after idleMs; an open stream holds it open however long', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const s = fakeSession();
  const idle = new SessionIdle(s, () => 1000);
  idle.opened();
  idle.opened();
  t.mock.timers.tick(5000);
  assert.equal(s.closes, 0, 'streams open: no GOAWAY');
  idle.closed();
  t.mock.timers.tick(5000);
  assert.equal(s.closes, 0, 'one stream still open');
  idle.closed();
  t.mock.timers.tick(999);
  assert.equal(s.closes, 0, 'idle, not yet for idleMs');
  t.mock.timers.tick(1);
  assert.equal(s.closes, 1, 'idle for idleMs: GOAWAY');
});

test('the idle time counts from the last stream\'s close; a new stream before it ends cancels it', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const s = fakeSession();
  const idle = new SessionIdle(s, () => 1000);
  t.mock.timers.tick(600);
  idle.opened();
  t.mock.timers.tick(600);
  assert.equal(s.closes, 0, 'the first timer was cancelled by the stream');
  idle.closed();
  t.mock.timers.tick(600);
  assert.equal(s.closes, 0);
  idle.opened();
  idle.closed();
  t.mock.timers.tick(999);
  assert.equal(s.closes, 0, 'rearmed at the last close');
  t.mock.timers.tick(1);
  assert.equal(s.closes, 1);
});

test('stop() leaves no timer behind; a closed session is not rearmed', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const s = fakeSession();
  const idle = new SessionIdle(s, () => 1000);
  idle.stop();
  t.mock.timers.tick(5000);
  assert.equal(s.closes, 0);
  idle.opened();
  s.closed = true;
  idle.closed();
  t.mock.timers.tick(5000);
  assert.equal(s.closes, 0);
});
