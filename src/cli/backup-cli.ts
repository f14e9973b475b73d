import type { Command } from 'commander';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { openArchive } from '../store/cert-archive.js';
import { listBackups, readFiles, writeCertBackup } from '../store/backup-dir.js';
import { SwitchyardError } from '../util/errors.js';
import { positiveInt } from './args.js';
import { runDrill } from './drill.js';

/* `switchyard config backup-certs | restore-certs | drill`: the manual side of disaster recovery. */

type Run = (body: () => Promise<void>) => Promise<void>;

/** The backup key: --key-file, else SWITCHYARD_BACKUP_KEY, else the config's backup.certificates.key. Never printed. */
function backupKey(o: { keyFile?: string }, fromConfig?: string): string {
  if (o.keyFile !== undefined) {
    try { return readFileSync(o.keyFile, 'utf8').replace(/\r?\n$/, ''); } catch (e) {
      throw new SwitchyardError('SWY_CLI_USAGE', `--key-file: cannot read ${o.keyFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const key = process.env.SWITCHYARD_BACKUP_KEY ?? fromConfig;
  if (key === undefined) throw new SwitchyardError('SWY_CLI_USAGE', 'no backup key: give --key-file, set SWITCHYARD_BACKUP_KEY, or set backup.certificates.key in the config');
  return key;
}

/** Adds the backup commands to `switchyard config`. */
export function registerBackupCommands(config: Command, run: Run, storeHelp: string): void {
  config.command('backup-certs')
    .description('write an encrypted backup (AES-256-GCM) of every certificate and key the config\'s https listeners name to DIR/certs/')
    .argument('<dir>')
    .requiredOption('-c, --config <file>', 'the config naming the certificates')
    .option('--key-file <file>', 'the encryption key: 64 hex digits or a passphrase of 16+ characters')
    .action((dir: string, o: { config: string; keyFile?: string }) => run(async () => {
      const c = await loadConfigFile(o.config);
      const key = backupKey(o, c.backup?.certificates?.key);
      const { files, missing } = await readFiles(c.listeners.flatMap((l) => (l.tls?.certificates ?? []).flatMap((p) => [p.cert, p.key])));
      if (missing.length > 0) throw new SwitchyardError('SWY_BACKUP_EMPTY', `cannot read ${missing.join(', ')}`);
      if (files.length === 0) throw new SwitchyardError('SWY_BACKUP_EMPTY', 'the config names no certificate');
      process.stdout.write(`backed up ${files.length} files to ${await writeCertBackup(dir, files, key, Date.now())}\n`);
    }));

  config.command('restore-certs')
    .description('decrypt a certificate backup (a .swycert file, or the newest in DIR/certs/) and write its files under --to, at their original paths')
    .argument('<archive>', 'a .swycert file or a backup DIR')
    .requiredOption('--to <dir>', 'root to write under (the original /etc/… path is kept below it)')
    .option('--key-file <file>', 'the encryption key')
    .action((archive: string, o: { to: string; keyFile?: string }) => run(async () => {
      const path = archive.endsWith('.swycert') ? archive : (await listBackups(archive, 'certs'))[0]?.path;
      if (path === undefined) throw new SwitchyardError('SWY_CLI_USAGE', `no certificate backup in ${archive}/certs/`);
      const { createdAt, files } = openArchive(readFileSync(path), backupKey(o));
      // The archive is authenticated, but a path that climbs out of --to is refused all the same.
      const climbing = files.find((f) => f.path.split(/[\\/]/).includes('..'));
      if (climbing !== undefined) throw new SwitchyardError('SWY_BACKUP_UNREADABLE', `certificate backup: refusing path ${climbing.path}`);
      for (const f of files) {
        const target = join(o.to, f.path);
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        writeFileSync(target, f.data, { mode: f.mode });
        process.stdout.write(`${target}\n`);
      }
      process.stdout.write(`restored ${files.length} files from ${path} (taken ${createdAt})\n`);
    }));

  config.command('drill')
    .description('disaster-recovery drill: wipe the config store, restore the newest backup, time until every node serves it (RTO)')
    .requiredOption('--from <dir>', 'the backup directory (backup.dir of the elected checker, or a `config backup` DIR)')
    .option('--store <url>', storeHelp)
    .option('--timeout <s>', 'give up (exit 1) after this many seconds; the design\'s RTO target is 300', positiveInt, 300)
    .option('--yes', 'really wipe the store (required)')
    .action((o: { from: string; store?: string; timeout: number; yes?: boolean }) => run(async () => {
      const url = o.store ?? process.env.SWITCHYARD_STORE;
      if (url === undefined) throw new SwitchyardError('SWY_CLI_USAGE', '--store: required (or set SWITCHYARD_STORE)');
      if (!o.yes) throw new SwitchyardError('SWY_CLI_USAGE', 'the drill deletes the config store before restoring it: add --yes');
      const r = await runDrill(url, o.from, o.timeout * 1000, (line) => process.stdout.write(`${line}\n`));
      process.stdout.write(`RTO ${(r.totalMs / 1000).toFixed(1)} s (restore ${(r.restoreMs / 1000).toFixed(1)} s + ${r.nodes.length} node(s) serving version ${r.version} ${(r.convergeMs / 1000).toFixed(1)} s); target 300 s: ${r.totalMs < 300_000 ? 'met' : 'MISSED'}\n`);
    }));
}
