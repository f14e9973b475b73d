import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from './load.js';
import { ConfigError } from '../util/errors.js';

/* Values that used to validate and then break at run time (issue 15, section 6). */

const L = { name: 'web', address: '127.0.0.1:8080' };

/** The `path: reason` lines validateConfig throws for `raw` (empty when it validates). */
function errorsOf(raw: unknown): string[] {
  try {
    validateConfig(raw, 'test.yaml');
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return [...e.errors];
  }
}

test('route regexes: constructs RE2 cannot run in linear time are rejected with path: reason; catastrophic ones run on RE2', () => {
  const route = (path: unknown, headers?: unknown) => ({ listeners: [L], services: { s: { backends: [] } }, routes: [{ match: { path, headers }, service: 's' }] });
  const back = errorsOf(route({ regex: '^/(a+)\\1$' }));
  assert.equal(back.length, 1, back.join('\n'));
  assert.match(back[0], /^routes\[0\]\.match\.path\.regex: invalid regular expression: not supported by the linear-time regex engine/);
  const look = errorsOf(route(undefined, [{ name: 'x', regex: '^(?!admin)' }]));
  assert.match(look.join('\n'), /^routes\[0\]\.match\.headers\[0\]\.regex: invalid regular expression: /m);
  for (const p of ['^/(a+)+$', '(a|a)*', '(a|aa)+', '(.*a){20}', '^([a-zA-Z]+)*$']) assert.deepEqual(errorsOf(route({ regex: p })), [], p);
});
