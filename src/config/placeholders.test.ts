import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePlaceholders, scrub, STAND_IN } from './placeholders.js';
import { validateConfig, checkPushedConfig } from './load.js';
import { ConfigError } from '../util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'swy-ph-'));
const L = [{ name: 'web', address: '127.0.0.1:8080' }];

test('env and file placeholders resolve inside strings; $${ is a literal ${', () => {
  const f = join(dir, 'pw');
  writeFileSync(f, 'from-file\n');
  const r = resolvePlaceholders({ a: ['x-${env:A}-y', `\${file:${f}}`], b: '$${env:A}', n: 3 }, { env: { A: 'va' } });
  assert.deepEqual(r.doc, { a: ['x-va-y', 'from-file'], b: '${env:A}', n: 3 });
  assert.deepEqual(r.resolved.map((x) => x.path), [['a', 0], ['a', 1]]);
  assert.deepEqual(r.errors, []);
});

test('unset, empty, relative, unknown and oversized placeholders are errors naming the path, never a value', () => {
  const big = join(dir, 'big');
  writeFileSync(big, 'x'.repeat(70_000));
  const r = resolvePlaceholders({ a: '${env:NOPE}', b: '${env:EMPTY}', c: '${file:rel/path}', d: '${vault:x}', e: `\${file:${big}}`, f: '${file:/dev/zero}' }, { env: { EMPTY: '' } });
  assert.deepEqual(r.errors.map((e) => `${e.path.join('.')}: ${e.reason}`), [
    'a: environment variable NOPE is not set',
    'b: environment variable EMPTY is empty',
    'c: ${file:rel/path}: the path must be absolute',
    'd: ${vault:…}: unknown placeholder (use ${env:NAME} or ${file:/path})',
    `e: secret file ${big} is larger than 65536 bytes`,
    'f: secret file /dev/zero is not a regular file',
  ]);
});

test('keep mode puts a stand-in for a missing secret (a push: the nodes resolve it)', () => {
  const r = resolvePlaceholders({ a: '${env:NOPE}' }, { env: {}, missing: 'keep' });
  assert.deepEqual(r.doc, { a: STAND_IN });
  assert.deepEqual(r.unresolved, [['a']]);
  assert.deepEqual(r.errors, []);
});

test('validateConfig: a placeholder only where the value is shown as ***; errors never echo a resolved value', () => {
  const env = { TOKEN: 'tok-0123456789abcdef', SHORT: 'short-secret' };
  const c = validateConfig({ listeners: L, admin: { token: '${env:TOKEN}' } }, 'x', { env });
  assert.equal(c.admin?.token, env.TOKEN);
  const lines = (raw: unknown): string[] => {
    try { validateConfig(raw, 'x', { env }); } catch (e) { return [...(e as ConfigError).errors]; }
    return [];
  };
  assert.deepEqual(lines({ listeners: [{ name: '${env:TOKEN}', address: '127.0.0.1:1' }] }),
    ['listeners[0].name: a ${env:…} or ${file:…} placeholder is allowed only in a secret field (one the admin API shows as ***), and this one would be shown']);
  const tooShort = lines({ listeners: L, admin: { token: '${env:SHORT}' } });
  assert.equal(tooShort.length, 1);
  assert.match(tooShort[0], /^admin\.token: /);
  assert.doesNotMatch(tooShort.join('\n'), /short-secret/);
  // A push checks the rest and leaves the unresolvable field to the nodes.
  assert.doesNotThrow(() => checkPushedConfig({ listeners: L, admin: { token: '${env:NOT_HERE}' } }, 'push'));
  assert.throws(() => checkPushedConfig({ listeners: L, admin: { token: '${env:NOT_HERE}' }, workers: 0 }, 'push'), /workers/);
  // Where it would be shown, a placeholder is refused at push already, resolvable here or not.
  assert.throws(() => checkPushedConfig({ listeners: [{ name: '${env:NOT_HERE}', address: '127.0.0.1:1' }] }, 'push'), /listeners\[0\]\.name: a \$\{env:…\} or \$\{file:…\} placeholder is allowed only in a secret field/);
});

test('scrub hides every occurrence of each secret', () => {
  assert.equal(scrub('a s3 b s3', ['s3', '']), 'a *** b ***');
});
