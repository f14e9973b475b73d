import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { SwitchyardError } from '../util/errors.js';

/*
 * The encrypted certificate backup: every certificate and key file, in one archive sealed with
 * AES-256-GCM (node:crypto). Layout, all of it authenticated (the header is the GCM AAD):
 *   "SWYCERT1" (8 bytes) | kdf (1: 0 raw key, 1 scrypt) | salt (16) | iv (12) | tag (16) | ciphertext
 * The plaintext is gzipped JSON: { format, createdAt, files: [{ path, mode, data (base64) }] }.
 * The key is 64 hex digits (used as is) or a passphrase (scrypt N=2^15, r=8, p=1, a fresh salt per
 * archive). A wrong key, or any changed byte, fails the tag check: nothing is ever half-restored.
 */

export interface ArchivedFile { path: string; mode: number; data: Buffer }

const MAGIC = Buffer.from('SWYCERT1');
const HEADER = MAGIC.length + 1 + 16 + 12;
const TAG = 16;
const FORMAT = 'switchyard-cert-backup/1';
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** Raw 32-byte key from 64 hex digits, else scrypt of the passphrase with `salt`. */
function deriveKey(secret: string, salt: Buffer): { key: Buffer; kdf: number } {
  if (/^[0-9a-fA-F]{64}$/.test(secret)) return { key: Buffer.from(secret, 'hex'), kdf: 0 };
  if (secret.length < 16) throw new SwitchyardError('SWY_BACKUP_KEY', 'the backup key must be 64 hex digits or a passphrase of at least 16 characters', 'config');
  return { key: scryptSync(secret, salt, 32, SCRYPT), kdf: 1 };
}

/** Seals `files` with `secret`; the result is what goes on disk. */
export function sealArchive(files: readonly ArchivedFile[], secret: string, now = new Date()): Buffer {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const { key, kdf } = deriveKey(secret, salt);
  const header = Buffer.concat([MAGIC, Buffer.from([kdf]), salt, iv]);
  const plain = gzipSync(JSON.stringify({ format: FORMAT, createdAt: now.toISOString(), files: files.map((f) => ({ path: f.path, mode: f.mode, data: f.data.toString('base64') })) }));
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([header, cipher.getAuthTag(), body]);
}

/** Opens a sealed archive; throws SWY_BACKUP_UNREADABLE for a wrong key or a damaged file (never partial content). */
export function openArchive(sealed: Buffer, secret: string): { createdAt: string; files: ArchivedFile[] } {
  const bad = (why: string) => new SwitchyardError('SWY_BACKUP_UNREADABLE', `certificate backup: ${why}`, 'config');
  if (sealed.length < HEADER + TAG || !sealed.subarray(0, MAGIC.length).equals(MAGIC)) throw bad('not a Switchyard certificate backup');
  const kdf = sealed[MAGIC.length];
  const salt = sealed.subarray(MAGIC.length + 1, MAGIC.length + 17);
  const iv = sealed.subarray(MAGIC.length + 17, HEADER);
  const { key, kdf: given } = deriveKey(secret, salt);
  if (kdf !== given) throw bad(kdf === 0 ? 'it was sealed with a raw key (64 hex digits), not a passphrase' : 'it was sealed with a passphrase, not a raw key');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(sealed.subarray(0, HEADER));
  decipher.setAuthTag(sealed.subarray(HEADER, HEADER + TAG));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(sealed.subarray(HEADER + TAG)), decipher.final()]);
  } catch {
    throw bad('wrong key, or the file was changed or damaged');
  }
  const body = JSON.parse(gunzipSync(plain).toString('utf8')) as { format: string; createdAt: string; files: { path: string; mode: number; data: string }[] };
  if (body.format !== FORMAT) throw bad(`unknown format ${body.format}`);
  return { createdAt: body.createdAt, files: body.files.map((f) => ({ path: f.path, mode: f.mode, data: Buffer.from(f.data, 'base64') })) };
}
