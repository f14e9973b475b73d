import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatPath, loadConfigFile, parseConfigText } from './load.js';
import { ConfigError } from '../util/errors.js';

/** Runs `fn`, expecting a ConfigError; returns its lines. */
function configErrors(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return [...e.errors];
  }
  assert.fail('expected a ConfigError');
}

async function configErrorsAsync(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('formatPath: dotted keys and bracketed indexes', () => {
  assert.equal(formatPath([]), '(root)');
  assert.equal(formatPath(['workers']), 'workers');
  assert.equal(formatPath(['services', 'api', 'backends', 0, 'address']), 'services.api.backends[0].address');
  assert.equal(formatPath(['listeners', 2]), 'listeners[2]');
  assert.equal(formatPath([0, 'a', 1, 2]), '[0].a[1][2]');
});

test('parseConfigText: YAML by default', () => {
  const v = parseConfigText('workers: 2\nlisteners:\n  - name: web\n    address: "0.0.0.0:8080"\n', 'switchyard.yaml');
  assert.deepEqual(v, { workers: 2, listeners: [{ name: 'web', address: '0.0.0.0:8080' }] });
  // YAML is a superset of JSON, so JSON text under another extension parses too.
  assert.deepEqual(parseConfigText('{"workers": 3}', 'config.yml'), { workers: 3 });
  assert.deepEqual(parseConfigText('workers: 3', 'no-extension'), { workers: 3 });
});

test('parseConfigText: empty YAML document is null/undefined-ish, not an error', () => {
  const v = parseConfigText('', 'empty.yaml');
  assert.ok(v === null || v === undefined, String(v));
});

test('parseConfigText: .json is parsed strictly as JSON', () => {
  assert.deepEqual(parseConfigText('{"workers": 2, "listeners": []}', 'c.json'), { workers: 2, listeners: [] });
  const e = configErrors(() => parseConfigText('workers: 2', 'c.json'));
  assert.equal(e.length, 1);
  assert.match(e[0], /^\(root\): invalid JSON: /);
  const trailing = configErrors(() => parseConfigText('{"a": 1,}', 'c.json'));
  assert.match(trailing[0], /^\(root\): invalid JSON: /);
});

test('parseConfigText: YAML syntax errors carry line and column', () => {
  const e = configErrors(() => parseConfigText('workers: 2\nlogLevel: a: b\naccessLog: true\n', 'bad.yaml'));
  assert.equal(e.length, 1);
  assert.match(e[0], /^\(root\): YAML line 2 col 11: /);
  const flow = configErrors(() => parseConfigText('workers: 2\nlisteners: [1, 2\nlogLevel: info\n', 'bad.yaml'));
  assert.match(flow[0], /^\(root\): YAML line 3 col 1: /);
  const tab = configErrors(() => parseConfigText('a:\n  b: 1\n c: 2\n', 'bad.yaml'));
  assert.match(tab[0], /^\(root\): YAML line \d+ col \d+: /);
});

test('parseConfigText: duplicate YAML keys are rejected with their line', () => {
  const e = configErrors(() => parseConfigText('workers: 1\nlogLevel: info\nworkers: 2\n', 'dup.yaml'));
  assert.equal(e.length, 1);
  assert.match(e[0], /^\(root\): YAML line 3 col 1: .*unique/i);
  const nested = configErrors(() => parseConfigText('shutdown:\n  drainTimeout: 1s\n  drainTimeout: 2s\n', 'dup.yaml'));
  assert.match(nested[0], /^\(root\): YAML line 3 col 3: /);
});

test('parseConfigText: error lines are single-line (no pretty code frame)', () => {
  const e = configErrors(() => parseConfigText('a: 1\na: 2\n', 'dup.yaml'));
  for (const l of e) assert.ok(!l.includes('\n'), l);
});

test('loadConfigFile: missing file is a ConfigError, not a raw fs error', async () => {
  const missing = join(tmpdir(), 'switchyard-does-not-exist', 'nope.yaml');
  const e = await configErrorsAsync(loadConfigFile(missing));
  assert.deepEqual(e.errors, ['(root): cannot read file: ENOENT']);
  assert.ok(e.message.startsWith(`${missing}: invalid config`), e.message);
  assert.equal(e.code, 'SWY_CONFIG_INVALID');
});

test('loadConfigFile: reads, parses and validates YAML and JSON files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-load-'));
  t.after(() => rm(dir, { recursive: true, force: true }));

  const yamlPath = join(dir, 'sy.yaml');
  await writeFile(yamlPath, 'listeners:\n  - name: web\n    address: 127.0.0.1:8080\n    timeouts: { header: 2s }\n');
  const y = await loadConfigFile(yamlPath);
  assert.equal(y.listeners[0].timeouts.header, 2000);
  assert.equal(y.workers, 'auto');

  const jsonPath = join(dir, 'sy.json');
  await writeFile(jsonPath, JSON.stringify({ listeners: [{ name: 'web', address: '127.0.0.1:8080' }], workers: 2 }));
  assert.equal((await loadConfigFile(jsonPath)).workers, 2);

  const badPath = join(dir, 'bad.yaml');
  await writeFile(badPath, 'listeners:\n  - name: web\n    address: 127.0.0.1:8080\n    foo: 1\n');
  const e = await configErrorsAsync(loadConfigFile(badPath));
  assert.deepEqual(e.errors, ['listeners[0].foo: unknown key']);
  assert.ok(e.message.startsWith(`${badPath}: invalid config`));

  const dupPath = join(dir, 'dup.yaml');
  await writeFile(dupPath, 'workers: 1\nworkers: 2\n');
  const d = await configErrorsAsync(loadConfigFile(dupPath));
  assert.match(d.errors[0], /^\(root\): YAML line 2/);
});

test('loadConfigFile: a directory is a ConfigError too', async () => {
  const e = await configErrorsAsync(loadConfigFile(tmpdir()));
  assert.equal(e.errors.length, 1);
  assert.match(e.errors[0], /^\(root\): cannot read file: E[A-Z]+$/);
});
