import { chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sealArchive, type ArchivedFile } from './cert-archive.js';

/*
 * The backup directory the elected checker fills (store/backup-scheduler.ts):
 *   DIR/config/<time>-v<version>/   etcd-snapshot.db + config-history.json (EtcdConfigStore.backup)
 *   DIR/certs/<time>.swycert        the encrypted certificate archive (cert-archive.ts)
 * <time> is ISO 8601 with `:` as `-` (2026-12-07T03-45-00.123Z): names sort by time, and age is
 * read from the name, so a copied directory keeps its meaning. Entries are written under a
 * `.part` name and renamed, so a crash never leaves a half backup that looks complete.
 */

export interface BackupEntry { name: string; path: string; at: number; version?: number }

const stamp = (at: number): string => new Date(at).toISOString().replace(/:/g, '-');
const NAME = /^(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?Z)(?:-v(\d+))?(?:\.swycert)?$/;

function parseName(name: string): { at: number; version?: number } | undefined {
  const m = NAME.exec(name);
  if (m === null) return undefined;
  const [d, t] = m[1].split('T');
  const at = Date.parse(`${d}T${t.replace(/^(\d\d)-(\d\d)-/, '$1:$2:')}`);
  return Number.isNaN(at) ? undefined : { at, ...(m[2] !== undefined && { version: Number(m[2]) }) };
}

/** The backups of one kind, newest first (unfinished `.part` entries and foreign names left out). */
export async function listBackups(dir: string, kind: 'config' | 'certs'): Promise<BackupEntry[]> {
  let names: string[];
  try { names = await readdir(join(dir, kind)); } catch { return []; }
  const out: BackupEntry[] = [];
  for (const name of names) {
    const p = parseName(name);
    if (p !== undefined) out.push({ name, path: join(dir, kind, name), ...p });
  }
  return out.sort((a, b) => b.at - a.at || (b.version ?? 0) - (a.version ?? 0));
}

/** The directory of the newest config backup under `dir` (or `dir` itself when it is one), else undefined. */
export async function latestConfigBackup(dir: string): Promise<string | undefined> {
  if (existsSync(join(dir, 'config-history.json'))) return dir;
  return (await listBackups(dir, 'config'))[0]?.path;
}

/** A fresh config backup directory for `version`: `write` fills it under a `.part` name, then it is renamed into place. */
export async function newConfigBackup(dir: string, version: number, at: number, write: (path: string) => Promise<void>): Promise<string> {
  const final = join(dir, 'config', `${stamp(at)}-v${version}`);
  const part = `${final}.part`;
  await mkdir(join(dir, 'config'), { recursive: true, mode: 0o700 });
  await rm(part, { recursive: true, force: true });
  await write(part);
  await rename(part, final);
  return final;
}

/** Seals `files` with `key` into DIR/certs/<time>.swycert (mode 0600). */
export async function writeCertBackup(dir: string, files: readonly ArchivedFile[], key: string, at: number): Promise<string> {
  await mkdir(join(dir, 'certs'), { recursive: true, mode: 0o700 });
  const final = join(dir, 'certs', `${stamp(at)}.swycert`);
  await writeFile(`${final}.part`, sealArchive(files, key, new Date(at)), { mode: 0o600 });
  await chmod(`${final}.part`, 0o600);
  await rename(`${final}.part`, final);
  return final;
}

/** Reads the files to archive; a file that cannot be read is listed in `missing`, not fatal. */
export async function readFiles(paths: readonly string[]): Promise<{ files: ArchivedFile[]; missing: string[] }> {
  const files: ArchivedFile[] = [];
  const missing: string[] = [];
  for (const path of [...new Set(paths)]) {
    try {
      const [data, s] = await Promise.all([readFile(path), stat(path)]);
      files.push({ path, mode: s.mode & 0o777, data });
    } catch {
      missing.push(path);
    }
  }
  return { files, missing };
}

/** Deletes backups of `kind` older than `retentionMs` before `now`, always keeping the newest. Resolves with the names deleted. */
export async function pruneBackups(dir: string, kind: 'config' | 'certs', retentionMs: number, now: number): Promise<string[]> {
  const doomed = (await listBackups(dir, kind)).slice(1).filter((b) => b.at < now - retentionMs);
  for (const b of doomed) await rm(b.path, { recursive: true, force: true });
  return doomed.map((b) => b.name);
}
