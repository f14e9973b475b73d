import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openArchive, sealArchive } from './cert-archive.js';

const files = [{ path: '/etc/tls/a.key', mode: 0o600, data: Buffer.from('-----BEGIN PRIVATE KEY-----\nsecret\n') }];
const RAW = 'ab'.repeat(32);

test('a sealed archive opens with its key (passphrase or raw), and holds nothing in clear', () => {
  for (const key of ['a long enough passphrase', RAW]) {
    const sealed = sealArchive(files, key);
    assert.ok(!sealed.includes(Buffer.from('BEGIN')));
    const opened = openArchive(sealed, key);
    assert.deepEqual(opened.files, files);
  }
});

test('a wrong key, a changed byte (body or header) or a short passphrase is refused', () => {
  const sealed = sealArchive(files, 'a long enough passphrase');
  assert.throws(() => openArchive(sealed, 'another long passphrase'), /wrong key, or the file was changed or damaged/);
  for (const at of [12, sealed.length - 1]) {
    const bad = Buffer.from(sealed);
    bad[at] ^= 1;
    assert.throws(() => openArchive(bad, 'a long enough passphrase'), /wrong key, or the file was changed or damaged/);
  }
  assert.throws(() => openArchive(sealed, RAW), /sealed with a passphrase, not a raw key/);
  assert.throws(() => sealArchive(files, 'short'), /64 hex digits or a passphrase of at least 16 characters/);
  assert.throws(() => openArchive(Buffer.from('not an archive at all, no'), RAW), /not a Switchyard certificate backup/);
});
