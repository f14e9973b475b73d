import { Pool } from 'undici';
import { SwitchyardError } from '../util/errors.js';

/*
 * Samples the target node's admin API during a run (soak leak detection): memory and open client
 * connections from /metrics, the worker count from /api/status. Metric names are those of
 * src/admin/metrics.ts; a metric the node does not export reads as null.
 */

/** One sample; t is seconds since the run's start. */
export interface AdminSample {
  t: number;
  /** switchyard_workers_resident_memory_bytes: all workers together. */
  workersRssBytes: number | null;
  /** process_resident_memory_bytes{worker="primary"}. */
  primaryRssBytes: number | null;
  /** Sum of switchyard_active_connections over listeners. */
  activeConnections: number | null;
  /** workers from /api/status. */
  workers: number | null;
  /** Set when the sample failed (the node may be down during a failover). */
  error?: string;
}

/** Sums every series of `name` in Prometheus text whose labels include `label` (e.g. `worker="primary"`; default any); null when absent. */
export function sumMetric(text: string, name: string, label?: string): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (label !== undefined && !rest.slice(0, rest.lastIndexOf('}') + 1).includes(label)) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

export class AdminSampler {
  private readonly pool: Pool;
  private readonly headers: Record<string, string>;

  /** `adminUrl` is the admin listener's base URL; `token` is sent as a Bearer token when given. */
  constructor(readonly adminUrl: URL, token: string | undefined, private readonly timeoutMs = 5000) {
    this.pool = new Pool(adminUrl.origin, { connections: 2, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connect: { timeout: timeoutMs } });
    this.headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  }

  private async get(path: string): Promise<string> {
    const r = await this.pool.request({ path, method: 'GET', headers: this.headers });
    const text = await r.body.text();
    if (r.statusCode === 401) throw new SwitchyardError('SWY_LOADTEST_ADMIN', `admin ${this.adminUrl.origin}${path}: 401 unauthorized (give --admin-token)`, 'client');
    if (r.statusCode !== 200) throw new SwitchyardError('SWY_LOADTEST_ADMIN', `admin ${this.adminUrl.origin}${path}: HTTP ${r.statusCode}`, 'upstream');
    return text;
  }

  /** Takes one sample; throws SWY_LOADTEST_ADMIN for a refused token or a missing endpoint, as the CLI's pre-flight check. */
  async sampleOrThrow(t: number): Promise<AdminSample> {
    const [metrics, status] = await Promise.all([this.get('/metrics'), this.get('/api/status')]);
    const workers = (JSON.parse(status) as { workers?: unknown }).workers;
    return {
      t,
      workersRssBytes: sumMetric(metrics, 'switchyard_workers_resident_memory_bytes'),
      primaryRssBytes: sumMetric(metrics, 'process_resident_memory_bytes', 'worker="primary"'),
      activeConnections: sumMetric(metrics, 'switchyard_active_connections'),
      workers: typeof workers === 'number' ? workers : null,
    };
  }

  /** Takes one sample; never throws (a failed sample carries `error`). */
  async sample(t: number): Promise<AdminSample> {
    try {
      return await this.sampleOrThrow(t);
    } catch (e) {
      const err = e as Error & { code?: string };
      return { t, workersRssBytes: null, primaryRssBytes: null, activeConnections: null, workers: null, error: err instanceof SwitchyardError ? err.message : (err.code ?? err.message) };
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
