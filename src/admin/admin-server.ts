import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { NodeView } from './node-view.js';
import type { ConfigVersions } from './config-versions.js';
import type { AuditEntry, AuditLog } from './audit-log.js';
import type { Config } from '../config/schema.js';
import { redactConfig } from '../config/redact.js';
import type { ReloadResult } from '../runtime/primary.js';
import type { Readiness } from '../runtime/readiness.js';
import { listenOn } from '../net/listen.js';
import { AdminGuard, isPagePath, isWrite, type AdminAccess } from './admin-guard.js';
import { blocksApi, type BlocksNode } from './blocks-api.js';

/** What the admin API needs of the node. */
export interface AdminNode {
  status(): Record<string, unknown>;
  config(): Config;
  /** Resolves once every worker applied it; false: unknown backend. */
  setDrain(service: string, backend: string, draining: boolean): Promise<boolean>;
  reload(): Promise<ReloadResult>;
  /** Hot-spot and auto-scaling signals (empty until their evaluators run). */
  signals(): Record<string, unknown>;
  /** The node's readiness (runtime/readiness.ts). */
  readiness(): Readiness;
  /** The anycast announcement (undefined: no `anycast` block). */
  anycast(): unknown;
  /** Temporary blocks by CIDR (blocks-api.ts). */
  blocks: BlocksNode;
  /** The dashboard's panels beside the services (traffic, routes, health reasons): see start-admin.ts. */
  panels(): Record<string, unknown>;
  /** The last hour of the charts (history.ts). */
  history(): Record<string, unknown>;
  /** The configs applied since start, and diffs between them (config-versions.ts). */
  configVersions: ConfigVersions;
  /** The fleet's node records (undefined: not in a fleet). */
  fleet?(): Promise<unknown[]>;
}

const DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/', import.meta.url));
const require = createRequire(import.meta.url);
/** Files the dashboard may load; nothing else on disk is reachable. */
const ASSETS: Record<string, string> = {
  'app.js': join(DASHBOARD_DIR, 'app.js'),
  'style.css': join(DASHBOARD_DIR, 'style.css'),
  'uPlot.iife.min.js': require.resolve('uplot/dist/uPlot.iife.min.js'),
  'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
};
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8' };

/** On every answer: never framed, never sniffed, no Referer to anywhere, not readable by other origins' pages. */
const SECURITY_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
};
/** The dashboard loads only its own files (scripts, styles, the event stream); `data:` is its empty favicon. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
  + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** API answers are data, never a document. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** Refused writes audited per second at most: a flood from anyone who reaches the port must neither fill the disk nor stall the primary on synchronous appends. */
const REFUSALS_AUDITED_PER_S = 10;

/**
 * The admin listener (its own port, loopback by default): JSON API, Prometheus /metrics, the
 * dashboard and its server-sent events. Every request passes the AdminGuard (Host, Origin, JSON
 * writes, the token — in the Authorization header only); every write is audited.
 */
export class AdminServer {
  private readonly server: Server;
  private readonly streams = new Set<ServerResponse>();
  private readonly guard: AdminGuard;
  private refusals = { second: 0, audited: 0, skipped: 0 };

  constructor(private readonly address: string, access: AdminAccess, private readonly node: AdminNode,
    private readonly view: NodeView, private readonly metrics: Registry, private readonly audit: AuditLog, private readonly log: Logger) {
    this.guard = new AdminGuard(address, access);
    this.server = createServer((req, res) => { void this.handle(req, res).catch((e: Error) => this.fail(res, 500, e.message)); });
  }

  listen(): Promise<void> {
    return listenOn(this.server, this.address, this.log, 'admin');
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** Sends the current snapshot to every open dashboard stream (called after each collection). */
  publish(): void {
    if (this.streams.size === 0) return;
    const data = `event: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`;
    for (const res of this.streams) {
      // A client that stopped reading would buffer a snapshot a second forever: cut it (the page reconnects).
      if (res.writableLength > 1 << 20) { res.destroy(); continue; }
      res.write(data);
    }
  }

  private snapshot() {
    return { status: this.node.status(), services: this.view.services(), signals: this.node.signals(), ...this.node.panels() };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    const page = req.method === 'GET' && isPagePath(path);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    res.setHeader('content-security-policy', page ? PAGE_CSP : API_CSP);
    if (!page) res.setHeader('cache-control', 'no-store');
    const client = req.socket.remoteAddress ?? '?';
    const refusal = this.guard.check(req.method, path, req.headers);
    if (refusal !== undefined) {
      if (isWrite(req.method)) this.auditRefusal({ action: path, client, userAgent: req.headers['user-agent'], result: 'refused', detail: refusal.message });
      if (refusal.status === 401) res.setHeader('www-authenticate', 'Bearer realm="switchyard-admin"');
      // Not worth a keep-alive (nor reading an unbounded body to keep one).
      res.setHeader('connection', 'close');
      this.fail(res, refusal.status, refusal.message);
      return;
    }
    // The page itself carries no data: it loads without a token and asks for one.
    if (req.method === 'GET' && (path === '/' || path === '/dashboard')) { this.file(res, join(DASHBOARD_DIR, 'index.html')); return; }
    if (req.method === 'GET' && path.startsWith('/assets/')) {
      const f = ASSETS[path.slice(8)];
      if (f === undefined) { this.fail(res, 404, 'no such asset'); return; }
      this.file(res, f);
      return;
    }
    if (req.method === 'GET') {
      switch (path) {
        case '/metrics':
          res.writeHead(200, { 'content-type': this.metrics.contentType });
          res.end(await this.metrics.metrics());
          return;
        case '/api/status': this.json(res, 200, this.node.status()); return;
        case '/api/services': this.json(res, 200, { services: this.view.services() }); return;
        case '/api/config': this.json(res, 200, redactConfig(this.node.config())); return;
        case '/api/signals': this.json(res, 200, this.node.signals()); return;
        case '/api/history': this.json(res, 200, this.node.history()); return;
        case '/api/config/versions': this.json(res, 200, { versions: this.node.configVersions.list() }); return;
        case '/api/config/diff': this.configDiff(res, url.searchParams); return;
        case '/api/fleet':
          if (this.node.fleet === undefined) { this.json(res, 200, { nodes: null }); return; }
          this.json(res, 200, { nodes: await this.node.fleet() });
          return;
        case '/api/ratelimits': this.json(res, 200, { windowS: this.view.windowS, limits: this.view.rateLimits(10) }); return;
        case '/api/anycast': this.json(res, 200, { readiness: this.node.readiness(), anycast: this.node.anycast() ?? null }); return;
        case '/healthz': this.json(res, 200, { status: 'alive' }); return;
        case '/readyz': {
          const r = this.node.readiness();
          // A probe needs no token, so without one it learns only the verdict and which condition
          // failed: the reason names services and their healthy counts (topology, for the token).
          const detail = this.guard.hasToken(req.headers.authorization) ? { reason: r.reason } : {};
          this.json(res, r.ready ? 200 : 503, { ready: r.ready, code: r.code ?? 'ready', ...detail });
          return;
        }
        case '/api/events': this.events(req, res); return;
      }
    }
    if (path === '/api/blocks' || path.startsWith('/api/blocks/')) {
      const userAgent = req.headers['user-agent'];
      const a = await blocksApi(req.method ?? '', path, req, this.node.blocks, (e) => this.audit.record({ ...e, client, userAgent }));
      if (a !== undefined) {
        if (a.status === 200 && req.method !== 'GET') this.log.warn({ client, path, method: req.method }, `admin: ${req.method === 'DELETE' ? 'unblock' : 'block'} ${JSON.stringify(a.body)}`);
        this.json(res, a.status, a.body);
        return;
      }
    }
    if (req.method === 'POST') {
      const drain = /^\/api\/backends\/([^/]+)\/([^/]+)\/(drain|undrain)$/.exec(path);
      if (drain !== null) {
        let service: string;
        let backend: string;
        try {
          [service, backend] = [decodeURIComponent(drain[1]), decodeURIComponent(drain[2])];
        } catch {
          this.audit.record({ action: drain[3], client, userAgent: req.headers['user-agent'], target: path, result: 'failed', detail: 'malformed URL encoding' });
          this.fail(res, 400, 'malformed percent-encoding in the service or backend');
          return;
        }
        const draining = drain[3] === 'drain';
        const ok = await this.node.setDrain(service, backend, draining);
        this.audit.record({ action: drain[3], client, userAgent: req.headers['user-agent'], target: `${service}/${backend}`, result: ok ? 'ok' : 'failed', detail: ok ? undefined : 'unknown service or backend' });
        this.log.info({ service, backend, draining, client }, `admin: ${drain[3]} ${service}/${backend}${ok ? '' : ' (unknown)'}`);
        if (!ok) { this.fail(res, 404, `no backend ${backend} in service ${service}`); return; }
        this.json(res, 200, { ok: true, service, backend, draining });
        return;
      }
      if (path === '/api/reload') {
        const r = await this.node.reload();
        const ok = r.result === 'applied' || r.result === 'unchanged';
        this.audit.record({ action: 'reload', client, userAgent: req.headers['user-agent'], result: ok ? 'ok' : 'failed', detail: `${r.result}, version ${r.version}${r.errors ? `: ${r.errors.join('; ')}` : ''}` });
        this.json(res, ok ? 200 : 422, { ok, ...r });
        return;
      }
    }
    this.fail(res, 404, `no ${req.method} ${path}`);
  }

  /** `?from=N&to=M`: a unified diff between two kept config versions (redacted), as text. */
  private configDiff(res: ServerResponse, q: URLSearchParams): void {
    const from = Number(q.get('from'));
    const to = Number(q.get('to'));
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) { this.fail(res, 400, 'from and to must be config versions (integers)'); return; }
    const diff = this.node.configVersions.diff(from, to);
    if (diff === undefined) { this.fail(res, 404, `config v${from} or v${to} is not kept (see /api/config/versions)`); return; }
    this.json(res, 200, { from, to, diff });
  }

  /** Records a refused write, at most REFUSALS_AUDITED_PER_S a second; the next one recorded says how many were not. */
  private auditRefusal(e: AuditEntry): void {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.refusals.second) this.refusals = { second, audited: 0, skipped: this.refusals.skipped };
    if (this.refusals.audited >= REFUSALS_AUDITED_PER_S) { this.refusals.skipped++; return; }
    this.refusals.audited++;
    const skipped = this.refusals.skipped;
    this.refusals.skipped = 0;
    this.audit.record(skipped === 0 ? e : { ...e, detail: `${e.detail} (${skipped} earlier refusals not recorded: over ${REFUSALS_AUDITED_PER_S}/s)` });
  }

  /** Server-sent events: a snapshot at once, then one per collection; a comment every 15 s keeps proxies from timing out. */
  private events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', connection: 'keep-alive' });
    // the charts' last hour first, so the page is not blank until a few snapshots have come
    res.write(`event: history\ndata: ${JSON.stringify(this.node.history())}\n\n`);
    res.write(`event: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    this.streams.add(res);
    const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
    res.on('close', () => { clearInterval(ping); this.streams.delete(res); });
  }

  private file(res: ServerResponse, path: string): void {
    if (!existsSync(path)) { this.fail(res, 404, 'not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    createReadStream(path).pipe(res);
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: ServerResponse, status: number, message: string): void {
    if (res.headersSent) { res.destroy(); return; }
    this.json(res, status, { error: message });
  }

  async close(): Promise<void> {
    for (const r of this.streams) r.end();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
