import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { checkPushedConfig, loadConfigFile, parseConfigText, validateConfig } from '../config/load.js';
import { redactConfig } from '../config/redact.js';
import { stringify } from 'yaml';
import { EtcdConfigStore } from '../store/config-store.js';
import { parseStoreUrl } from '../store/store-url.js';
import { listNodes } from '../fleet/membership.js';
import { formatAnycast } from '../fleet/anycast-record.js';
import { checkZones, DEFAULT_MAX_CPU_PERCENT, type ZoneStatus } from '../fleet/zone-check.js';
import { ConfigError } from '../util/errors.js';
import { positiveInt } from './args.js';
import { registerBackupCommands } from './backup-cli.js';
import { lazyModule } from '../util/lazy-module.js';

const etcd3 = lazyModule<typeof import('etcd3')>('etcd3');

/* `switchyard config …` and `switchyard fleet`: the fleet's config store and member list in etcd. */

type Run = (body: () => Promise<void>) => Promise<void>;

const STORE_HELP = 'etcd://host:port[,host:port…]/prefix (or SWITCHYARD_STORE)';

function storeUrl(o: { store?: string }): string {
  const url = o.store ?? process.env.SWITCHYARD_STORE;
  if (url === undefined) throw new ConfigError('--store', ['--store: required (or set SWITCHYARD_STORE)']);
  return url;
}

function author(): string {
  try { return process.env.SWITCHYARD_AUTHOR ?? userInfo().username; } catch { return 'unknown'; }
}

/** Validation before a push or rollback: the same as `switchyard validate`, on the text (secrets the nodes resolve may be missing here). */
function validateText(text: string): void {
  checkPushedConfig(parseConfigText(text, 'pushed config'), 'pushed config');
}

async function withStore<T>(o: { store?: string }, fn: (s: EtcdConfigStore) => Promise<T>): Promise<T> {
  const store = EtcdConfigStore.fromUrl(storeUrl(o));
  try { return await fn(store); } finally { await store.close(); }
}

/** Prints a ConfigError's lines as `path: reason` and exits 1 (as `validate` does). */
function reportInvalid(e: unknown): never {
  if (!(e instanceof ConfigError)) throw e;
  for (const line of e.errors) process.stderr.write(`${line}\n`);
  process.exit(1);
}

export function registerFleetCommands(program: Command, run: Run): void {
  const config = program.command('config').description('the fleet config in etcd: push, history, rollback, backup, restore');

  config.command('push')
    .description('validate FILE and make it the current config of every node (a new version)')
    .argument('<file>', 'config file (YAML or JSON)')
    .option('--store <url>', STORE_HELP)
    .option('-m, --message <text>', 'what changed and why (kept in the history)')
    .action((file: string, o: { store?: string; message?: string }) => run(async () => {
      const text = readFileSync(file, 'utf8');
      try { validateText(text); } catch (e) { reportInvalid(e); }
      const { version } = await withStore(o, (s) => s.push(text, { author: author(), host: hostname(), message: o.message, validate: validateText }));
      process.stdout.write(`pushed ${file} as version ${version}\n`);
    }));

  config.command('show')
    .description('print the effective config (defaults filled, ${env:}/${file:} secrets resolved, every secret shown as ***)')
    .option('-c, --config <file>', 'a config file')
    .option('--store <url>', `the store's current config: ${STORE_HELP}`)
    .option('--json', 'print JSON instead of YAML')
    .action((o: { config?: string; store?: string; json?: boolean }) => run(async () => {
      let c;
      try {
        if (o.config !== undefined) c = await loadConfigFile(o.config);
        else {
          const rec = await withStore(o, (s) => s.current());
          if (rec === null) throw new ConfigError('--store', ['(store): nothing has been pushed yet']);
          c = validateConfig(parseConfigText(rec.text, `store v${rec.version}`), `store v${rec.version}`);
        }
      } catch (e) { reportInvalid(e); }
      const shown = redactConfig(c);
      process.stdout.write(o.json ? `${JSON.stringify(shown, null, 2)}\n` : stringify(shown));
    }));

  config.command('history')
    .description('list config versions, newest first')
    .option('--store <url>', STORE_HELP)
    .option('-n, --limit <n>', 'versions to show', positiveInt, 20)
    .action((o: { store?: string; limit: number }) => run(async () => {
      const rows = await withStore(o, (s) => s.history({ limit: o.limit }));
      process.stdout.write('VERSION  TIME                      AUTHOR@HOST                 CHECKSUM      CHANGE\n');
      for (const r of rows) {
        const rec = r.record;
        const who = rec === undefined ? '-' : `${rec.author}@${rec.host}`;
        const note = rec?.rollbackOf !== undefined ? ` (rollback to ${rec.rollbackOf})` : rec?.message ? ` — ${rec.message}` : '';
        process.stdout.write(`${String(r.version).padEnd(8)} ${(rec?.time ?? '-').padEnd(25)} ${who.padEnd(27)} ${(rec?.checksum.slice(0, 12) ?? '-').padEnd(13)} ${r.summary}${note}\n`);
      }
    }));

  config.command('rollback')
    .description('make an older version current again (default: the one before current)')
    .argument('[version]', 'version to restore', positiveInt)
    .option('--store <url>', STORE_HELP)
    .action((version: number | undefined, o: { store?: string }) => run(async () => {
      const r = await withStore(o, (s) => s.rollback(version, { author: author(), host: hostname(), validate: validateText }));
      process.stdout.write(`rolled back: version ${r.version} is current${version !== undefined ? ` (text of version ${version})` : ''}\n`);
    }));

  config.command('prune')
    .description('delete history older than the retention (always keeps current and the newest 10)')
    .option('--store <url>', STORE_HELP)
    .option('--days <n>', 'retention in days', positiveInt, 30)
    .action((o: { store?: string; days: number }) => run(async () => {
      const r = await withStore(o, (s) => s.prune(o.days * 24 * 3600 * 1000));
      process.stdout.write(`pruned ${r.deleted.length} versions\n`);
    }));

  config.command('backup')
    .description('write an etcd snapshot and the config history to DIR')
    .argument('<dir>')
    .option('--store <url>', STORE_HELP)
    .action((dir: string, o: { store?: string }) => run(async () => {
      const r = await withStore(o, (s) => s.backup(dir));
      process.stdout.write(`backed up ${r.versions.length} versions: ${r.snapshot}, ${r.history}\n`);
    }));

  config.command('restore')
    .description('put the config history from a backup DIR back into an empty store')
    .argument('<dir>')
    .option('--store <url>', STORE_HELP)
    .action((dir: string, o: { store?: string }) => run(async () => {
      const r = await withStore(o, (s) => s.restore(dir, { author: author(), host: hostname() }));
      process.stdout.write(`restored ${r.restored} versions; version ${r.version} is current\n`);
    }));

  registerBackupCommands(config, run, STORE_HELP);

  program.command('fleet')
    .description('list the nodes registered in the store, and check N+1 per zone')
    .option('--store <url>', STORE_HELP)
    .option('--json', 'print JSON (the node records)')
    .option('--check', 'only the zone check; exit 1 when a zone is below N+1')
    .option('--max-cpu <percent>', 'zone check: the CPU a node may reach after a loss (design headroom: 70)', positiveInt, DEFAULT_MAX_CPU_PERCENT)
    .action((o: { store?: string; json?: boolean; check?: boolean; maxCpu: number }) => run(async () => {
      const u = parseStoreUrl(storeUrl(o));
      const client = new (etcd3().Etcd3)({ hosts: u.hosts.map((h) => `http://${h}`) });
      try {
        const nodes = await listNodes(client, u.prefix);
        const zones = checkZones(nodes, o.maxCpu);
        if (o.check) {
          process.stdout.write(formatZones(zones));
          if (zones.length === 0 || zones.some((z) => z.warnings.length > 0)) process.exitCode = 1;
          return;
        }
        if (o.json) { process.stdout.write(`${JSON.stringify(nodes, null, 2)}\n`); return; }
        process.stdout.write('ID                    ZONE       ROLES          CONFIG  UPTIME   RSS     CPU    ADDRESSES              ANYCAST\n');
        for (const n of nodes) {
          process.stdout.write(`${n.id.padEnd(21)} ${n.zone.padEnd(10)} ${n.roles.join(',').padEnd(14)} v${String(n.configVersion).padEnd(6)} ${`${n.load.uptimeS}s`.padEnd(8)} ${`${n.load.rssMiB}M`.padEnd(7)} ${`${n.load.cpuPercent}%`.padEnd(6)} ${n.addresses.join(' ').padEnd(22)} ${formatAnycast(n.anycast)}\n`);
        }
        process.stdout.write(`${nodes.length} node(s)\n\n${formatZones(zones)}`);
      } finally {
        client.close();
      }
    }));
}

/** The zone check as a table, then its warnings (or that N+1 holds everywhere). */
function formatZones(zones: readonly ZoneStatus[]): string {
  if (zones.length === 0) return 'no LB node serving: no zone to check\n';
  const pct = (x: number | null) => (x === null ? '-' : `${x}%`);
  const lines = ['ZONE       LB NODES  CPU      AFTER NODE LOSS  AFTER ZONE LOSS'];
  for (const z of zones) lines.push(`${z.zone.padEnd(10)} ${String(z.nodes).padEnd(9)} ${pct(z.cpuPercent).padEnd(8)} ${pct(z.afterNodeLoss).padEnd(16)} ${pct(z.afterZoneLoss)}`);
  const warnings = zones.flatMap((z) => z.warnings);
  lines.push(...(warnings.length === 0 ? ['N+1 per zone: ok'] : warnings.map((w) => `warning: ${w}`)));
  return `${lines.join('\n')}\n`;
}
