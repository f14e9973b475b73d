import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizePath, routingPath } from './normalize-path.js';

const n = (p: string, merge = false) => normalizePath(p, merge);

test('normalizePath: plain paths pass through unchanged (fast path)', () => {
  for (const p of ['/', '/admin', '/a/b/c', '/a/b/', '/a.b/c.d', '/a..b', '/~user/x-y_z', '/a//b', '/a\\b']) {
    const out = n(p);
    assert.equal(out, p);
    assert.equal(out === p, true);
  }
  assert.equal(n('/a/b', true), '/a/b');
});

test('normalizePath: percent-encoded unreserved characters are decoded', () => {
  assert.equal(n('/%61dmin'), '/admin');
  assert.equal(n('/%41DMIN'), '/ADMIN');
  assert.equal(n('/a%2Db%5Fc%7Ed%2Ee'), '/a-b_c~d.e');
  assert.equal(n('/%30%39'), '/09');
  assert.equal(n('/%7e'), '/~');
});

test('normalizePath: dot segments are removed', () => {
  assert.equal(n('/x/../admin'), '/admin');
  assert.equal(n('/./admin'), '/admin');
  assert.equal(n('/a/./b/./c'), '/a/b/c');
  assert.equal(n('/a/b/../../c'), '/c');
  assert.equal(n('/a/b/c/../../d/./e'), '/a/d/e');
});

test('normalizePath: encoded dot segments are removed after decoding', () => {
  assert.equal(n('/%2e%2e/admin'), '/admin');
  assert.equal(n('/%2E%2E/admin'), '/admin');
  assert.equal(n('/x/%2e%2E/admin'), '/admin');
  assert.equal(n('/x/.%2e/admin'), '/admin');
  assert.equal(n('/%2e/admin'), '/admin');
});

test('normalizePath: trailing dot segments leave a trailing slash', () => {
  assert.equal(n('/a/b/..'), '/a/');
  assert.equal(n('/a/b/.'), '/a/b/');
  assert.equal(n('/a/%2e'), '/a/');
  assert.equal(n('/.'), '/');
});

test('normalizePath: climbing above the root is clamped at /', () => {
  assert.equal(n('/..'), '/');
  assert.equal(n('/../..'), '/');
  assert.equal(n('/../../admin'), '/admin');
  assert.equal(n('/a/../../../b'), '/b');
});

test('normalizePath: "..." and dotted names are ordinary segments', () => {
  assert.equal(n('/.../a'), '/.../a');
  assert.equal(n('/.hidden/x'), '/.hidden/x');
  assert.equal(n('/a/..b/c'), '/a/..b/c');
  assert.equal(n('/a/b./..'), '/a/');
});

test('normalizePath: reserved escapes stay encoded, upper-cased', () => {
  assert.equal(n('/a%2fb'), '/a%2Fb');
  assert.equal(n('/a%2Fb'), '/a%2Fb');
  assert.equal(n('/a%3fb%23c%3a%40'), '/a%3Fb%23c%3A%40');
  assert.equal(n('/%25'), '/%25');
  assert.equal(n('/%2561'), '/%2561', 'no double decoding');
  assert.equal(n('/caf%c3%a9'), '/caf%C3%A9');
  assert.equal(n('/a%20b'), '/a%20b');
});

test('normalizePath: an encoded slash is not a separator for dot segments', () => {
  assert.equal(n('/a%2F..%2Fadmin'), '/a%2F..%2Fadmin');
  assert.equal(n('/a/..%2fadmin'), '/a/..%2Fadmin');
  assert.equal(n('/a/b%2f../c'), '/a/b%2F../c');
});

test('normalizePath: broken escapes are rejected', () => {
  for (const bad of ['/%zz', '/%4', '/%', '/a%', '/a%2', '/%g0', '/%0g', '/a/%-1/b', '/%%41', '/ok/%4/ok']) {
    assert.equal(n(bad), undefined, bad);
    assert.equal(n(bad, true), undefined, `${bad} (merge)`);
  }
});

test('normalizePath: an escaped NUL is rejected', () => {
  assert.equal(n('/%00'), undefined);
  assert.equal(n('/a%00b'), undefined);
  assert.equal(n('/a/%00'), undefined);
  assert.equal(n('/%001'), undefined);
  assert.equal(n('/%01'), '/%01');
});

test('normalizePath: a path must start with /', () => {
  for (const bad of ['', 'admin', '*', 'http://x/admin', '%2Fadmin', '.', '../admin', '\\admin']) {
    assert.equal(n(bad), undefined, JSON.stringify(bad));
    assert.equal(n(bad, true), undefined, `${JSON.stringify(bad)} (merge)`);
  }
});

test('normalizePath: mergeSlashes merges runs of slashes', () => {
  assert.equal(n('//a///b', true), '/a/b');
  assert.equal(n('//a///b', false), '//a///b');
  assert.equal(n('//', true), '/');
  assert.equal(n('/a//', true), '/a/');
  assert.equal(n('/a//b//', true), '/a/b/');
  assert.equal(n('//%61dmin', true), '/admin');
  assert.equal(n('//x//..//admin', true), '/admin');
});

test('normalizePath: without mergeSlashes empty segments are kept', () => {
  assert.equal(n('//%61dmin'), '//admin');
  assert.equal(n('/a//b/../c'), '/a//c');
  assert.equal(n('/a//../c'), '/a/c');
});

test('normalizePath: trailing slash is preserved', () => {
  assert.equal(n('/a/'), '/a/');
  assert.equal(n('/%61/'), '/a/');
  assert.equal(n('/a/./'), '/a/');
  assert.equal(n('/a/b/../'), '/a/');
  assert.equal(n('/a/', true), '/a/');
});

test('normalizePath: idempotent on its own output', () => {
  for (const p of ['/%61dmin', '/x/../admin', '/a%2fb', '//a///b/./c/..', '/a/b/..', '/%2e%2e/%7euser/']) {
    for (const merge of [false, true]) {
      const once = n(p, merge);
      assert.notEqual(once, undefined);
      assert.equal(n(once!, merge), once, `${p} merge=${merge}`);
    }
  }
});

test('routingPath: plain normalized paths are returned as they are (fast path)', () => {
  for (const p of ['/', '/admin', '/a/b/', '/a.b']) assert.equal(routingPath(p), p);
});

test('routingPath: every spelling a lenient backend reads as /admin routes as /admin', () => {
  for (const p of ['//admin', '/%2Fadmin', '/public%2F..%2Fadmin', '/admin;jsessionid=1', '/public/..;/admin', '/;x/admin',
    '/\\admin', '/public\\..\\admin', '/public%5C..%5Cadmin', '/a/.%2E/admin']) {
    assert.equal(routingPath(p), '/admin', p);
  }
  assert.equal(routingPath('/admin;x/y'), '/admin/y');
  assert.equal(routingPath('/caf%C3%A9'), '/café');
  assert.equal(routingPath('/a%25b'), '/a%b', 'decoded once only');
});

test('routingPath: escaped overlong UTF-8 bytes are refused', () => {
  assert.equal(routingPath('/public%C0%AF..%C0%AFadmin'), undefined);
  assert.equal(routingPath('/%c1%9cadmin'), undefined);
});
