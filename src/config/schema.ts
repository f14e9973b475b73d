import { z } from 'zod';
import { HotspotSchema } from './hotspot-schema.js';
import { ScalingSchema } from './scaling-schema.js';
import { AnycastSchema } from './anycast-schema.js';
import { DnsSchema } from './dns-schema.js';
import { BackupSchema } from './backup-schema.js';
import { bindConflicts, canonicalHost, parseHostPort } from './address.js';
import { linearRegexProblem } from '../util/linear-regex.js';
import { redisUrlProblem } from './redis-url.js';
import { HealthCheckSchema, OutlierSchema, BreakerSchema, RetrySchema, HedgingSchema, BulkheadSchema, DegradationSchema, duration } from './resilience-schema.js';
import { secret, headerMatch, url } from './secrets.js';
import { adminTokenProblem } from './loopback.js';
import { AccessRulesSchema, ClientLimitsSchema, GlobalAccessSchema, SpikesSchema } from './defence-schema.js';
import { RateLimitsSchema, RateLimitingSchema } from './ratelimit-schema.js';

/*
 * The configuration schema: the single source of truth for validation, defaults, the
 * `switchyard schema` JSON Schema and docs/config.md. Every object is strict: an unknown key
 * is an error naming its path, so a typo never silently falls back to a default.
 */

const hostPort = (what: string, allowZero = false) =>
  z.string().refine((s) => parseHostPort(s, allowZero) !== undefined, {
    message: `expected ${what} as host:port (IPv6 as [::1]:port)`,
  });

/** A string `problem` finds nothing wrong with; what it finds is the error message, after `prefix`. */
const checkedString = (problem: (s: string) => string | undefined, prefix = '') => z.string().superRefine((s, ctx) => {
  const p = problem(s);
  if (p !== undefined) ctx.addIssue({ code: 'custom', message: `${prefix}${p}` });
});

/** Route regexes run on RE2 (linear time, see util/linear-regex.ts): what RE2 cannot compile is rejected here. */
const regexString = checkedString(linearRegexProblem, 'invalid regular expression: ');

const isPrime = (n: number) => {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
};

export const ListenerSchema = z.strictObject({
  name: z.string().min(1).describe('unique name, used by routes.listeners'),
  address: hostPort('listen address', true).describe('address to bind, e.g. 0.0.0.0:8080'),
  protocol: z.enum(['http', 'https', 'tcp', 'tls-passthrough', 'dns']).default('http')
    .describe('http: L7 proxy with routes; tcp: L4, every connection piped to a backend of `service`; tls-passthrough: L4 routed by the TLS SNI, never decrypted; dns: the GeoDNS responder of the `dns` block, UDP and TCP on the same port'),
  service: z.string().min(1).optional()
    .describe('tcp listeners: the service whose backends take the connections; tls-passthrough: the service when no `sni` entry matches'),
  sni: z.array(z.strictObject({
    hosts: z.array(z.string().min(1)).min(1).describe('server names, exact or "*.example.com"'),
    service: z.string().min(1),
  })).default([]).describe('tls-passthrough listeners: first entry whose hosts match the ClientHello server name wins'),
  tls: z.strictObject({
    certificates: z.array(z.strictObject({ cert: z.string().min(1), key: z.string().min(1) })).min(1)
      .describe('PEM files; chosen by SNI (exact name, then wildcard); the first is the default'),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    ciphers: z.string().optional().describe('OpenSSL cipher list for TLS 1.2 (default: Node\'s, which excludes weak ciphers)'),
  }).optional().describe('https listeners: certificates (reloaded when the files change) and protocol floor'),
  http2: z.strictObject({
    enabled: z.boolean().default(true).describe('https listeners: offer h2 in ALPN (HTTP/2 clients; others keep HTTP/1.1)'),
    maxConcurrentStreams: z.number().int().min(1).max(10_000).default(100)
      .describe('streams one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS)'),
  }).prefault({}).describe('HTTP/2 on https listeners (backends are reached over HTTP/1.1 unless their service says otherwise)'),
  acceptProxyProtocol: z.boolean().default(false)
    .describe('tcp listeners: expect a PROXY protocol v1/v2 header from a front tier (and use its client address)'),
  engine: z.enum(['fast', 'node']).default('fast')
    .describe('fast: raw sockets + Node\'s llhttp parser + own upstream pools; node: node:http + undici'),
  maxConnections: z.number().int().positive().default(10_000)
    .describe('open client connections accepted per listener (split across workers); excess are closed'),
  backlog: z.number().int().min(1).max(65_535).default(511)
    .describe('length of the kernel\'s queue of connections not yet accepted (listen(2) backlog; Node\'s default 511; the kernel caps it at net.core.somaxconn)'),
  access: AccessRulesSchema.prefault({}).describe('allow/deny lists of this listener, checked at accept together with the global `access` rules'),
  clientLimits: ClientLimitsSchema.optional(),
  maxHeaderSize: z.number().int().min(1024).max(1 << 20).default(16_384)
    .describe('bytes of request line + headers; larger requests get 431'),
  mergeSlashes: z.boolean().default(false)
    .describe('merge repeated slashes in the path before routing (nginx merge_slashes)'),
  monitorPath: z.string().regex(/^\/[!-~]*$/, 'a path starting with /, printable ASCII without spaces').optional()
    .describe('http/https listeners: this exact path (any host, method and query) is answered by the listener itself with the node\'s readiness, 200 or 503, never routed nor forwarded (HAProxy\'s monitor-uri; for a cloud load balancer\'s health check)'),
  timeouts: z.strictObject({
    header: duration('10s', '5m').describe('time to receive the complete request head (slowloris)'),
    request: duration('5m', '24h').describe('time to receive the complete request, body included'),
    keepAlive: duration('5s', '1h').describe('idle time a client keep-alive connection is kept open'),
    idle: duration('1h', '24h', 'off').describe('tcp listeners: a connection silent both ways this long is closed (0 = never)'),
  }).prefault({}),
});

// A match on a secret-looking header (authorization, x-api-key…) holds the secret: redacted when shown.
const HeaderMatchSchema = secret(z.strictObject({
  name: z.string().min(1),
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: regexString.optional(),
  present: z.boolean().optional(),
}).refine((h) => [h.exact, h.prefix, h.regex, h.present].filter((x) => x !== undefined).length === 1, {
  message: 'give exactly one of exact, prefix, regex, present',
}), headerMatch);

const PathMatchSchema = z.union([
  z.strictObject({ prefix: z.string().startsWith('/') }),
  z.strictObject({ exact: z.string().startsWith('/') }),
  z.strictObject({ regex: regexString }),
]).describe('one of {prefix}, {exact}, {regex}; matched against the normalized path');

export const RouteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  listeners: z.array(z.string()).min(1).optional().describe('listener names this route serves (default: all)'),
  match: z.strictObject({
    host: z.union([z.string(), z.array(z.string()).min(1)]).optional()
      .describe('exact host or "*.example.com" (any subdomain depth); case-insensitive, port ignored'),
    path: PathMatchSchema.optional(),
    methods: z.array(z.string().regex(/^[A-Z]+$/, 'methods are upper case tokens')).min(1).optional(),
    headers: z.array(HeaderMatchSchema).optional().describe('all must match'),
  }).prefault({}),
  service: z.string().min(1),
  redirectToHttps: z.union([z.boolean(), z.number().int().min(1).max(65535)]).default(false)
    .describe('on http listeners, answer 308 to the same URL over https (true: port 443; a number: that port)'),
  idempotent: z.boolean().default(false).describe('treat every method on this route as safe to retry (e.g. a POST API with idempotency keys)'),
  upgrades: z.array(z.string().regex(/^[a-z0-9!#$%&'*+.^_`|~-]+$/, 'an upgrade protocol is a lower-case token, e.g. websocket')
    .refine((p) => p !== 'h2c', 'h2c upgrades are never forwarded: cleartext HTTP/2 on a tunnel would bypass routing and checks'))
    .default(['websocket'])
    .describe('protocols a client may switch to with `Upgrade` on this route (tunnelled only after the backend answers 101 with the same protocol); [] = none'),
  hedging: z.boolean().optional().describe('false: never hedge requests of this route; true: requires the service\'s hedging.enabled (default: the service\'s setting)'),
  rateLimits: RateLimitsSchema,
});

const BalancerSchema = z.discriminatedUnion('algorithm', [
  z.strictObject({ algorithm: z.literal('round-robin') }),
  z.strictObject({ algorithm: z.literal('weighted-round-robin') }),
  z.strictObject({ algorithm: z.literal('random') }),
  z.strictObject({ algorithm: z.literal('least-connections') }),
  z.strictObject({ algorithm: z.literal('p2c') }),
  z.strictObject({ algorithm: z.literal('ewma'), decay: duration('10s', '10m') }),
  z.strictObject({ algorithm: z.literal('ring-hash'), virtualNodes: z.number().int().min(1).max(10_000).default(100) }),
  z.strictObject({
    algorithm: z.literal('maglev'),
    tableSize: z.number().int().max(5_000_011).refine(isPrime, 'tableSize must be a prime').default(65_537),
  }),
  z.strictObject({
    algorithm: z.literal('bounded-load'),
    balanceFactor: z.number().gt(1).default(1.25),
    virtualNodes: z.number().int().min(1).max(10_000).default(100),
  }),
]);

const HashKeySchema = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('header'), name: z.string().min(1) }),
  z.strictObject({ source: z.literal('cookie'), name: z.string().min(1) }),
  z.strictObject({ source: z.literal('client-ip') }),
  z.strictObject({ source: z.literal('path') }),
  z.strictObject({ source: z.literal('query'), name: z.string().min(1) }),
]);

export const BackendSchema = z.strictObject({
  address: hostPort('backend address'),
  weight: z.number().int().min(1).max(10_000).default(1),
  zone: z.string().min(1).max(64).optional().describe('the backend\'s zone: with `start --zone`, zone-aware balancing prefers the node\'s own zone (docs/zones.md)'),
  priority: z.number().int().min(0).max(9).default(0)
    .describe('priority level: 0 serves first; a higher level takes the load a lower one cannot carry (primary/backup groups)'),
  draining: z.boolean().default(false).describe('no new requests; in-flight ones finish'),
});

const LocalitySchema = z.strictObject({
  zoneAware: z.boolean().default(true)
    .describe('prefer backends in this node\'s zone (`start --zone`) while it has the capacity, spill the rest in proportion, fail over when it is down (Envoy\'s zone-aware routing)'),
  minClusterSize: z.number().int().min(1).max(10_000).default(6)
    .describe('a priority level with fewer usable backends than this is not zone-routed (Envoy\'s default 6)'),
  overprovisioningFactor: z.number().min(1).max(10).default(1.4)
    .describe('a priority level keeps all its load while its usable share × this ≥ 1; below, the next level takes the rest'),
}).describe('zone-aware balancing and priority levels (docs/zones.md)');

export const ServiceSchema = z.strictObject({
  balancer: BalancerSchema.default({ algorithm: 'p2c' }),
  hashKey: HashKeySchema.optional()
    .describe('what hash-based balancers hash; default client-ip for ring-hash, maglev, bounded-load'),
  backends: z.array(BackendSchema).describe('may be empty: requests then get 503'),
  maxConnectionsPerBackend: z.number().int().positive().default(256)
    .describe('upstream connections kept per backend (undici Pool size)'),
  backendProtocol: z.enum(['http/1.1', 'h2c']).default('http/1.1')
    .describe('how backends are spoken to: HTTP/1.1, or cleartext HTTP/2 with prior knowledge (gRPC servers); h2c is served through node-engine listeners'),
  timeouts: z.strictObject({
    connect: duration('5s', '5m').describe('TCP connect to a backend; failure → 502'),
    request: duration('60s', '1h').describe('request sent until response headers arrive; expiry → 504'),
    idle: duration('60s', '1h').describe('longest silence while a response body streams; expiry aborts it'),
  }).prefault({}),
  healthCheck: HealthCheckSchema.optional(),
  outlierDetection: OutlierSchema.prefault({}),
  circuitBreaker: BreakerSchema.prefault({}),
  retries: RetrySchema.prefault({}),
  hedging: HedgingSchema.prefault({}),
  bulkhead: BulkheadSchema.prefault({}),
  degradation: DegradationSchema.prefault({}),
  sendProxyProtocol: z.enum(['off', 'v1', 'v2']).default('off')
    .describe('tcp: send a PROXY protocol header to the backend so it sees the real client address'),
  hotspot: HotspotSchema.prefault({}),
  locality: LocalitySchema.prefault({}),
  slowStart: duration('30s', '1h', 'off').describe('a backend back in rotation ramps from 10% to its full share over this long (0 = off)'),
  rateLimits: RateLimitsSchema,
});

export const ConfigSchema = z.strictObject({
  workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default('auto')
    .describe('worker processes; auto = one per core'),
  acceptDistribution: z.enum(['auto', 'kernel', 'primary']).default('auto')
    .describe('how new connections reach workers: kernel (workers accept on the shared socket), primary (the primary accepts and hands each one over, round-robin), auto (kernel with one worker, primary with more); needs a restart'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  accessLog: z.boolean().default(false).describe('log one line per request (info level)'),
  accessLogSample: z.number().gt(0).max(1).default(1).describe('with accessLog on, the share of requests logged (0.01 = one in a hundred)'),
  shutdown: z.strictObject({
    drainTimeout: duration('30s', '1h', 'off').describe('on SIGTERM, how long in-flight requests may finish'),
    readinessDelay: duration('0s', '10m', 'off')
      .describe('on SIGTERM, how long /readyz and listeners\' monitorPath answer 503 while the listeners still serve, before the drain starts (time for load balancers and Kubernetes to stop sending; 0 = drain at once)'),
  }).prefault({}),
  reloadTimeout: duration('15s', '10m').refine((ms) => ms >= 100, 'reloadTimeout must be at least 100ms')
    .describe('how long a reload waits for every worker to build and bind the new config; a worker slower than this rejects the reload everywhere'),
  admin: z.strictObject({
    address: hostPort('admin address', true).default('127.0.0.1:9901').describe('where the admin API, /metrics and the dashboard listen (keep it on loopback or a management network)'),
    token: secret(z.string().min(16)).optional()
      .describe('when set, every admin request needs `Authorization: Bearer <token>` (the dashboard asks for it once); required when `address` is not loopback'),
    allowedHosts: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a host name or IPv4 address, without port')).default([])
      .describe('more host names the admin listener answers to (e.g. a reverse proxy\'s); loopback names, IP addresses and the host of `address` always are; any other Host is refused (DNS rebinding)'),
    publicMetrics: z.boolean().default(false)
      .describe('serve /metrics without the token (for a Prometheus that scrapes without credentials); everything else still needs it'),
    auditLog: z.strictObject({
      path: z.string().min(1).default('switchyard-audit.log').describe('JSON lines of every admin write; rotated daily to PATH.YYYY-MM-DD'),
      retentionDays: z.number().int().min(1).default(90).describe('rotated audit files older than this are deleted'),
    }).prefault({}),
  }).superRefine((a, ctx) => {
    const problem = adminTokenProblem(a.address, a.token);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['token'], message: problem });
  }).optional().describe('the admin listener: JSON API, Prometheus /metrics and the live dashboard (off unless this block is present)'),
  metrics: z.strictObject({
    maxBackendSeries: z.number().int().min(1).max(10_000).default(100)
      .describe('per service, backends with their own /metrics series; a service with more names its busiest (sticky while configured) and sums the rest as backend="_other"'),
  }).prefault({}).describe('the Prometheus endpoint of the admin listener'),
  autoscaling: ScalingSchema.prefault({}),
  access: GlobalAccessSchema.prefault({}),
  spikes: SpikesSchema.prefault({}),
  anycast: AnycastSchema.optional(),
  dns: DnsSchema.optional(),
  backup: BackupSchema,
  zones: z.strictObject({
    nodes: z.record(z.string().min(1).max(64), z.number().int().min(0).max(100_000)).default({})
      .describe('Switchyard nodes per zone, e.g. {a: 3, b: 2}: zone-aware balancing spills in proportion to them (empty: as many in every zone)'),
  }).prefault({}).describe('the fleet\'s layout for zone-aware balancing (this node\'s own zone is `start --zone`)'),
  tlsSessionCache: z.strictObject({
    redis: secret(checkedString(redisUrlProblem), url).describe('Redis shared by every node: redis://[user:pass@]host:port[/db]'),
    ttl: duration('1h', '24h').describe('how long a TLS 1.2 session stays resumable (also the server session timeout)'),
    timeout: duration('75ms', '10s').describe('longest a handshake waits for Redis; then a full handshake (counted), never a failure'),
    keyPrefix: z.string().min(1).default('switchyard:tls:').describe('Redis key prefix for sessions and ticket keys'),
    ticketKeyRotation: duration('12h', '168h').describe('session-ticket keys (TLS 1.3 and 1.2 tickets) rotate this often; the previous key is still accepted'),
  }).optional().describe('the design\'s L2 cache: TLS sessions and ticket keys shared through Redis, so a client resumes on any node'),
  rateLimiting: RateLimitingSchema.prefault({}),
  listeners: z.array(ListenerSchema).min(1),
  routes: z.array(RouteSchema).default([]),
  services: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'service names use letters, digits, _ . -'), ServiceSchema)
    .default({}),
}).superRefine((c, ctx) => {
  const names = new Set<string>();
  // Compared as bound, not as text: 127.1:80 is 127.0.0.1:80, and 0.0.0.0:80 holds every IPv4 :80.
  const listens = c.listeners.map((l, i) => ({ where: `listeners[${i}]`, address: l.address, path: ['listeners', i, 'address'] }));
  if (c.admin !== undefined) listens.push({ where: 'the admin listener', address: c.admin.address, path: ['admin', 'address'] });
  for (const { index, message } of bindConflicts(listens)) ctx.addIssue({ code: 'custom', path: listens[index].path, message });
  c.listeners.forEach((l, i) => {
    if (names.has(l.name)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'name'], message: `duplicate listener name "${l.name}"` });
    names.add(l.name);
    if (l.protocol === 'tcp' && l.service === undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'service'], message: 'a tcp listener needs a service' });
    if (l.protocol === 'tls-passthrough' && l.service === undefined && l.sni.length === 0) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'sni'], message: 'a tls-passthrough listener needs `sni` entries or a default `service`' });
    l.sni.forEach((e, j) => {
      if (!(e.service in c.services)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'sni', j, 'service'], message: `unknown service "${e.service}"` });
      if (l.protocol !== 'tls-passthrough') ctx.addIssue({ code: 'custom', path: ['listeners', i, 'sni'], message: 'only tls-passthrough listeners route by SNI' });
    });
    if (l.protocol !== 'http' && l.service !== undefined && !(l.service in c.services)) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'service'], message: `unknown service "${l.service}"` });
    if (l.protocol === 'https' && l.tls === undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls'], message: 'an https listener needs `tls.certificates`' });
    if (l.protocol !== 'https' && l.tls !== undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'tls'], message: 'only https listeners take `tls`' });
    if ((l.protocol === 'http' || l.protocol === 'https') && l.service !== undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'service'], message: 'http listeners route with `routes`; `service` is for tcp listeners' });
    if (l.protocol === 'dns' && c.dns === undefined) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'protocol'], message: 'a dns listener needs the top-level `dns` block (the zone it answers)' });
    if (l.protocol === 'dns' && (l.service !== undefined || l.acceptProxyProtocol)) ctx.addIssue({ code: 'custom', path: ['listeners', i], message: 'a dns listener takes neither `service` nor `acceptProxyProtocol`' });
    if (l.monitorPath !== undefined && l.protocol !== 'http' && l.protocol !== 'https') ctx.addIssue({ code: 'custom', path: ['listeners', i, 'monitorPath'], message: 'only http and https listeners answer a monitor path' });
    if ((l.protocol === 'http' || l.protocol === 'https') && l.acceptProxyProtocol) ctx.addIssue({ code: 'custom', path: ['listeners', i, 'acceptProxyProtocol'], message: 'only tcp listeners accept the PROXY protocol for now' });
  });
  c.routes.forEach((r, i) => {
    if (!(r.service in c.services)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'service'], message: `unknown service "${r.service}"` });
    else if (r.hedging === true && !c.services[r.service].hedging.enabled) ctx.addIssue({ code: 'custom', path: ['routes', i, 'hedging'], message: `service "${r.service}" has hedging off: set services.${r.service}.hedging.enabled (and hedging: false on the routes that must not hedge)` });
    // The fast engine's upstream pools speak HTTP/1.1 only; undici (node engine) speaks h2c too.
    else if (c.services[r.service].backendProtocol === 'h2c') {
      const fast = c.listeners.filter((l) => (l.protocol === 'http' || l.protocol === 'https') && l.engine === 'fast' && (r.listeners === undefined || r.listeners.includes(l.name)));
      if (fast.length > 0) ctx.addIssue({ code: 'custom', path: ['routes', i, 'service'], message: `service "${r.service}" has h2c backends; the listeners serving this route must use engine: node (fast: ${fast.map((l) => l.name).join(', ')})` });
    }
    r.listeners?.forEach((n, j) => {
      if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'listeners', j], message: `unknown listener "${n}"` });
    });
  });
  // Fleet limits need a Redis: rateLimiting.redis, else the TLS session cache's.
  if (c.rateLimiting.redis === undefined && c.tlsSessionCache === undefined) {
    const fleet = (list: { scope: string }[], path: (string | number)[]) => list.forEach((l, j) => {
      if (l.scope === 'fleet') ctx.addIssue({ code: 'custom', path: [...path, j, 'scope'], message: 'a fleet limit needs a Redis: set rateLimiting.redis (or tlsSessionCache.redis)' });
    });
    c.routes.forEach((r, i) => fleet(r.rateLimits, ['routes', i, 'rateLimits']));
    for (const [name, s] of Object.entries(c.services)) fleet(s.rateLimits, ['services', name, 'rateLimits']);
  }
  c.anycast?.policy.forEach((p, i) => {
    if (!(p.service in c.services)) ctx.addIssue({ code: 'custom', path: ['anycast', 'policy', i, 'service'], message: `unknown service "${p.service}"` });
  });
  for (const [name, s] of Object.entries(c.services)) {
    const seen = new Map<string, string>();
    s.backends.forEach((b, i) => {
      const at = parseHostPort(b.address);
      if (at === undefined) return;
      const key = `${canonicalHost(at.host)}:${at.port}`;
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['services', name, 'backends', i, 'address'], message: `duplicate backend ${b.address}${first === b.address ? '' : ` (the same as ${first})`}` });
      else seen.set(key, b.address);
    });
  }
});

/** A validated config with defaults filled in and durations in milliseconds. */
export type Config = z.output<typeof ConfigSchema>;
export type ListenerConfig = Config['listeners'][number];
export type RouteConfig = Config['routes'][number];
export type ServiceConfig = Config['services'][string];
export type BalancerConfig = ServiceConfig['balancer'];
export type HashKeyConfig = NonNullable<ServiceConfig['hashKey']>;

/** The JSON Schema of the config file as a user writes it (for editor completion). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
}
