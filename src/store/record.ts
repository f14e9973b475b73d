import { createHash } from 'node:crypto';
import { CorruptRecordError } from './store-errors.js';

/* A config version as stored in etcd (see config-store.ts for the data model), and its codec. */

/** One pushed config version. */
export interface ConfigRecord {
  readonly version: number;
  readonly text: string;
  readonly checksum: string;
  readonly author: string;
  readonly host: string;
  readonly time: string;
  readonly message?: string;
  readonly rollbackOf?: number;
}

export const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** Checks a parsed value field by field; throws CorruptRecordError naming `key`. */
export function checkRecord(key: string, raw: unknown, expectVersion?: number): ConfigRecord {
  const bad = (reason: string): never => { throw new CorruptRecordError(key, reason); };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('value is not a JSON object');
  const r = raw as Record<string, unknown>;
  const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
  if (!isVersion(r.version)) bad('field "version" is missing or not a positive integer');
  for (const f of ['text', 'checksum', 'author', 'host', 'time'] as const) {
    if (typeof r[f] !== 'string') bad(`field "${f}" is missing or not a string`);
  }
  if (Number.isNaN(Date.parse(r.time as string))) bad(`field "time" is not a date: ${JSON.stringify(r.time)}`);
  if (r.message !== undefined && typeof r.message !== 'string') bad('field "message" is not a string');
  if (r.rollbackOf !== undefined && !isVersion(r.rollbackOf)) bad('field "rollbackOf" is not a positive integer');
  if (expectVersion !== undefined && r.version !== expectVersion) bad(`holds version ${r.version as number}, but the key is for version ${expectVersion}`);
  const sum = sha256(r.text as string);
  if (sum !== r.checksum) bad(`checksum mismatch: stored ${String(r.checksum).slice(0, 12)}…, text hashes to ${sum.slice(0, 12)}…`);
  return {
    version: r.version as number, text: r.text as string, checksum: sum, author: r.author as string, host: r.host as string,
    time: r.time as string, ...(r.message !== undefined && { message: r.message as string }),
    ...(r.rollbackOf !== undefined && { rollbackOf: r.rollbackOf as number }),
  };
}

/** Decodes a stored value; never throws a raw SyntaxError. */
export function decodeRecord(key: string, value: Buffer, expectVersion?: number): ConfigRecord {
  let raw: unknown;
  try { raw = JSON.parse(value.toString('utf8')); } catch (e) {
    throw new CorruptRecordError(key, `value is not JSON (${(e as Error).message})`);
  }
  return checkRecord(key, raw, expectVersion);
}

/** Fixed field order, so a record always serializes to the same bytes. */
export function encodeRecord(r: ConfigRecord): string {
  return JSON.stringify({ version: r.version, text: r.text, checksum: r.checksum, author: r.author, host: r.host, time: r.time,
    message: r.message, rollbackOf: r.rollbackOf });
}
