import { appendFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** One admin write, as recorded. */
export interface AuditEntry {
  action: string;
  /** Who: the token's holder is not known by name, so the client address and user agent. */
  client: string;
  userAgent?: string;
  target?: string;
  result: 'ok' | 'refused' | 'failed';
  detail?: string;
}

/**
 * The admin audit log: one JSON line per write (drain, undrain, reload…), appended synchronously
 * so an entry is on disk before the API answers. Rotated by day (`PATH` → `PATH.YYYY-MM-DD`);
 * rotated files older than `retentionDays` (the design keeps audit logs 90 days) are deleted.
 */
export class AuditLog {
  private day: string;

  constructor(private readonly path: string, private readonly retentionDays: number, private readonly now: () => Date = () => new Date()) {
    mkdirSync(dirname(path) || '.', { recursive: true });
    this.day = existsSync(path) ? dayOf(statSync(path).mtime) : dayOf(now());
  }

  record(e: AuditEntry): void {
    const t = this.now();
    const today = dayOf(t);
    if (today !== this.day) this.rotate(today);
    appendFileSync(this.path, `${JSON.stringify({ time: t.toISOString(), ...e })}\n`);
  }

  private rotate(today: string): void {
    if (existsSync(this.path)) {
      const target = `${this.path}.${this.day}`;
      renameSync(this.path, existsSync(target) ? `${target}.${Date.now()}` : target);
    }
    this.day = today;
    this.prune();
  }

  /** Deletes rotated files whose day is older than the retention. */
  prune(): void {
    const dir = dirname(this.path) || '.';
    const prefix = `${basename(this.path)}.`;
    const cutoff = dayOf(new Date(this.now().getTime() - this.retentionDays * 86_400_000));
    for (const f of readdirSync(dir)) {
      if (!f.startsWith(prefix)) continue;
      const day = f.slice(prefix.length, prefix.length + 10);
      if (/^\d{4}-\d{2}-\d{2}$/.test(day) && day < cutoff) rmSync(join(dir, f), { force: true });
    }
  }
}

const dayOf = (d: Date) => d.toISOString().slice(0, 10);
