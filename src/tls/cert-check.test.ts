import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nameCovers } from './cert-check.js';

test('a certificate name covers a host exactly, or by a one-label wildcard', () => {
  assert.ok(nameCovers('www.example.com', 'WWW.example.com'));
  assert.ok(nameCovers('*.example.com', 'api.example.com'));
  assert.ok(!nameCovers('*.example.com', 'a.b.example.com'));
  assert.ok(!nameCovers('*.example.com', 'example.com'));
  assert.ok(nameCovers('*.example.com', '*.example.com'));
  assert.ok(!nameCovers('www.example.com', '*.example.com'));
});
