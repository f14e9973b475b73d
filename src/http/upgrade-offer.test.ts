import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedOffer, protocolName, switchMatches, upgradeOffer, withoutUpgrade } from './upgrade-offer.js';

const WS = ['Host', 'a', 'Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Version', '13'];

test('upgradeOffer: a clean GET upgrade offers its protocols', () => {
  assert.deepEqual(upgradeOffer('GET', WS), ['websocket']);
  assert.deepEqual(upgradeOffer('GET', ['Connection', 'upgrade', 'Upgrade', 'h2c, WebSocket/13']), ['h2c', 'WebSocket/13']);
  assert.deepEqual(upgradeOffer('GET', [...WS, 'Content-Length', '0']), ['websocket']);
});

test('upgradeOffer: anything ambiguous is not a candidate (served as a plain request)', () => {
  assert.equal(upgradeOffer('POST', WS), undefined);
  assert.equal(upgradeOffer('GET', [...WS, 'Content-Length', '5']), undefined);
  assert.equal(upgradeOffer('GET', [...WS, 'Transfer-Encoding', 'chunked']), undefined);
  assert.equal(upgradeOffer('GET', [...WS, 'Upgrade', 'x-tunnel']), undefined, 'two Upgrade headers');
  assert.equal(upgradeOffer('GET', ['Upgrade', 'websocket']), undefined, 'no Connection: upgrade');
  assert.equal(upgradeOffer('GET', ['Connection', 'close', 'Upgrade', 'websocket']), undefined);
  assert.equal(upgradeOffer('GET', ['Connection', 'upgrade', 'Upgrade', 'web socket']), undefined, 'not a token');
  assert.equal(upgradeOffer('GET', ['Connection', 'upgrade', 'Upgrade', ' , ']), undefined, 'empty list');
});

test('allowedOffer: keeps the protocols the route allows, never h2c', () => {
  const ws = new Set(['websocket']);
  assert.deepEqual(allowedOffer(['h2c', 'WebSocket'], ws), ['WebSocket']);
  assert.deepEqual(allowedOffer(['x-tunnel'], ws), []);
  assert.deepEqual(allowedOffer(['h2c', 'H2C/1'], new Set(['h2c'])), []);
  assert.deepEqual(allowedOffer(['websocket'], new Set()), []);
  assert.equal(protocolName('WebSocket/13'), 'websocket');
});

test('switchMatches: the 101 must name exactly one protocol that was forwarded', () => {
  assert.equal(switchMatches(['websocket'], 'websocket'), true);
  assert.equal(switchMatches(['websocket'], 'WebSocket'), true);
  assert.equal(switchMatches(['websocket'], 'h2c'), false);
  assert.equal(switchMatches(['websocket'], undefined), false);
  assert.equal(switchMatches(['websocket'], 'websocket, h2c'), false);
  assert.equal(switchMatches(['websocket'], ''), false);
});

test('withoutUpgrade: drops Upgrade, HTTP2-Settings and their Connection tokens, keeps the rest', () => {
  assert.deepEqual(withoutUpgrade(['Host', 'a', 'Connection', 'Upgrade, HTTP2-Settings', 'Upgrade', 'h2c', 'HTTP2-Settings', 'AAM', 'X', 'y']),
    ['Host', 'a', 'X', 'y']);
  assert.deepEqual(withoutUpgrade(['Connection', 'close, upgrade', 'Upgrade', 'websocket']), ['Connection', 'close']);
});
