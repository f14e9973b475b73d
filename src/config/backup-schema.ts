import { z } from 'zod';
import { duration } from './resilience-schema.js';
import { secret } from './secrets.js';

/*
 * The fleet's automatic backups (design, "Backup Strategy"): a config snapshot on every change
 * kept 30 days, the store's history pruned daily to the same age, and the TLS certificates
 * backed up weekly, encrypted, kept a year. Run by the zone's elected checker (store/backup-scheduler.ts);
 * ignored by a node started on a config file.
 */

export const BackupSchema = z.strictObject({
  dir: z.string().min(1)
    .describe('directory on the elected checker\'s host: config/<time>-v<version>/ (etcd snapshot + history) and certs/<time>.swycert'),
  debounce: duration('10s', '1h')
    .describe('after a config change, wait this long for more before taking the snapshot (a burst of pushes makes one backup)'),
  retentionDays: z.number().int().min(1).max(3650).default(30)
    .describe('config snapshots older than this are deleted (the newest is always kept), and the store\'s history is pruned to this age'),
  pruneEvery: duration('24h', '168h')
    .describe('how often the retention above is applied'),
  certificates: z.strictObject({
    everyDays: z.number().int().min(1).max(365).default(7).describe('days between two certificate backups'),
    retentionDays: z.number().int().min(1).max(3650).default(365).describe('encrypted certificate backups older than this are deleted (the newest is always kept)'),
    key: secret(z.string().min(16))
      .describe('encryption key (AES-256-GCM): 64 hex digits (a raw key) or a passphrase of at least 16 characters (scrypt); write it as ${file:/path} or ${env:NAME}, never inline'),
  }).optional().describe('weekly encrypted backup of every certificate and key the https listeners name (as read on the checker\'s host)'),
}).optional().describe('fleet nodes: automatic backups, taken by the zone\'s elected checker (see docs/fleet.md)');

/** The validated block: durations in milliseconds. */
export type BackupConfig = NonNullable<z.output<typeof BackupSchema>>;
