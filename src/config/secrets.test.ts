import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argv, headerMatch, headers, isSecretName, redactTarget, redactUrl, REDACTED } from './secrets.js';

test('isSecretName: credential-looking query keys, headers and options', () => {
  for (const n of ['password', 'pass', 'pwd', 'passwd', 'token', 'access_token', 'secret', 'client_secret', 'key', 'apikey', 'api_key', 'X-Api-Key',
    'auth', 'Authorization', 'Proxy-Authorization', 'signature', 'sig', 'X-Amz-Signature', 'X-Amz-Credential', 'credential', 'Cookie', 'session_id', 'jwt']) {
    assert.ok(isSecretName(n), n);
  }
  for (const n of ['db', 'timeout', 'content-type', 'accept', 'user', 'host', 'x-request-id', 'retries']) assert.ok(!isSecretName(n), n);
});

test('redactUrl: userinfo password, or the whole userinfo when it is a lone token', () => {
  assert.equal(redactUrl('redis://user:hunter2@h:6379/0'), `redis://user:${REDACTED}@h:6379/0`);
  assert.equal(redactUrl('redis://:hunter2@h:6379'), `redis://:${REDACTED}@h:6379`);
  assert.equal(redactUrl('https://ghp_abc123@github.example/x'), `https://${REDACTED}@github.example/x`);
  assert.equal(redactUrl('redis://h:6379/0'), 'redis://h:6379/0');
});

test('redactUrl: secret-looking query and fragment keys, the rest kept byte for byte', () => {
  assert.equal(redactUrl('redis://h:6379/?password=x&db=2'), `redis://h:6379/?password=${REDACTED}&db=2`);
  assert.equal(redactUrl('https://h/p?a=1&api%5Fkey=k&X-Amz-Signature=s&b=%20'), `https://h/p?a=1&api%5Fkey=${REDACTED}&X-Amz-Signature=${REDACTED}&b=%20`);
  assert.equal(redactUrl('https://h/cb#access_token=t&state=1'), `https://h/cb#access_token=${REDACTED}&state=1`);
});

test('redactUrl: an @ after / ? or # is ambiguous (parsers disagree on the host): only the scheme is shown', () => {
  assert.equal(redactUrl('redis://:pa/ss@h:6379'), `redis://${REDACTED}`);
  assert.equal(redactUrl('https://h/x?to=ops@example.com'), `https://${REDACTED}`);
});

test('redactUrl: with path, the path is hidden too (webhook URLs carry secrets there)', () => {
  assert.equal(redactUrl('https://hooks.example/services/T0/B0/XYZ?x=1', { path: true }), `https://hooks.example/${REDACTED}?x=1`);
  assert.equal(redactUrl('https://hooks.example/', { path: true }), 'https://hooks.example/');
});

test('redactTarget: a path with a query hides secret-looking query values', () => {
  assert.equal(redactTarget('/health?key=abc&verbose=1'), `/health?key=${REDACTED}&verbose=1`);
  assert.equal(redactTarget('/health'), '/health');
});

test('redactUrl: not a URL → unchanged', () => {
  assert.equal(redactUrl('/etc/key.pem'), '/etc/key.pem');
  assert.equal(redactUrl('user:pass@host'), 'user:pass@host');
});

test('headers: secret-looking header values hidden, others kept', () => {
  assert.deepEqual(headers({ Authorization: 'Bearer x', cookie: 'a=b', 'x-api-key': 'k', 'content-type': 'application/json' }),
    { Authorization: REDACTED, cookie: REDACTED, 'x-api-key': REDACTED, 'content-type': 'application/json' });
});

test('headerMatch: a route matching on a secret header hides the value it compares with', () => {
  assert.deepEqual(headerMatch({ name: 'X-Api-Key', exact: 'k' }), { name: 'X-Api-Key', exact: REDACTED });
  assert.deepEqual(headerMatch({ name: 'Authorization', prefix: 'Bearer abc' }), { name: 'Authorization', prefix: REDACTED });
  assert.deepEqual(headerMatch({ name: 'x-tenant', exact: 'acme' }), { name: 'x-tenant', exact: 'acme' });
});

test('argv: option values, env-style assignments, header arguments and URLs', () => {
  assert.deepEqual(argv(['kubectl', '--token=abc', 'scale', '--password', 'pw', 'API_KEY=k', '-H', 'Authorization: Bearer t', 'https://u:p@h/', '--replicas', '3']),
    ['kubectl', `--token=${REDACTED}`, 'scale', '--password', REDACTED, `API_KEY=${REDACTED}`, '-H', `Authorization: ${REDACTED}`, `https://u:${REDACTED}@h/`, '--replicas', '3']);
});
