import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from './load.js';
import { applyListenOverrides, parseListenOverrides } from './listen-overrides.js';
import { ConfigError } from '../util/errors.js';

const config = validateConfig({ listeners: [{ name: 'a', address: '127.0.0.1:18370' }, { name: 'b', address: '127.0.0.1:18371' }] });

test('applyListenOverrides: moves a listener; an override that collides with another listener is a ConfigError with path: reason', () => {
  assert.equal(applyListenOverrides(config, parseListenOverrides(['b=127.0.0.2:18370'])).listeners[1].address, '127.0.0.2:18370');
  assert.throws(() => applyListenOverrides(config, parseListenOverrides(['b=127.1:18370'])), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.errors, ['listeners[1].address: address 127.1:18370 conflicts with listeners[0] 127.0.0.1:18370 (the same address)']);
    return true;
  });
  assert.throws(() => applyListenOverrides(config, parseListenOverrides(['a=0.0.0.0:18371'])), /0\.0\.0\.0 listener takes the port/);
});
