import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigSchema } from './schema.js';
import { validateConfig } from './load.js';
import { redactBySchema, redactConfig } from './redact.js';
import { secret, secretMark, REDACTED } from './secrets.js';

type Def = { type: string; shape?: Record<string, z.core.$ZodType>; innerType?: z.core.$ZodType; in?: z.core.$ZodType; out?: z.core.$ZodType;
  element?: z.core.$ZodType; valueType?: z.core.$ZodType; options?: z.core.$ZodType[] };

/** Every object field of the schema as [path, marked?]; a mark anywhere on the way down to the field's value counts. */
function fields(s: z.core.$ZodType, path: string, out: Map<string, boolean>, marked = false): Map<string, boolean> {
  const m = marked || secretMark(s) !== undefined;
  const d = s._zod.def as Def;
  if (d.type === 'object') for (const [k, f] of Object.entries(d.shape!)) { const p = `${path}.${k}`; out.set(p, (out.get(p) ?? false) || m || isMarked(f)); fields(f, p, out, m); }
  for (const inner of [d.innerType, d.in, d.out, d.element, d.valueType, ...(d.options ?? [])]) if (inner !== undefined) fields(inner, path, out, m);
  return out;
}
function isMarked(s: z.core.$ZodType): boolean {
  if (secretMark(s) !== undefined) return true;
  const d = s._zod.def as Def;
  return [d.innerType, d.in, d.element, d.valueType].some((i) => i !== undefined && isMarked(i));
}

/*
 * Field names that look like they could hold a secret. Each one in the schema must be marked with
 * `secret()`, or be listed below with why it is not one: a new `apiToken`, `password` or `url`
 * field fails this test until someone decides.
 */
const SUSPECT = /token|secret|pass|pwd|cred|auth|key|cookie|url|redis|header|command|host|body/i;
const NOT_SECRET: Record<string, string> = {
  '.listeners.tls.certificates.key': 'a file path; the key itself is never in the config',
  '.tlsSessionCache.keyPrefix': 'a Redis key prefix',
  '.services.hashKey': 'which request part is hashed (a header or cookie *name*)',
  '.listeners.maxHeaderSize': 'a size',
  '.listeners.timeouts.header': 'a duration',
  '.listeners.sni.hosts': 'server names',
  '.routes.match.host': 'host names routed on',
  '.services.healthCheck.host': 'the Host header of health checks',
  '.services.healthCheck.bodyContains': 'text expected in a health check answer',
  '.services.degradation.errorPage.body': 'a static error page',
  '.admin.allowedHosts': 'host names',
  '.tlsSessionCache.ticketKeyRotation': 'a duration',
  '.services.retries.maxBufferedBody': 'a size',
  '.rateLimiting.maxKeys': 'a count of rate-limit keys',
  '.rateLimiting.keyPrefix': 'a Redis key prefix',
  '.routes.rateLimits.key': 'what a rate limit counts by (a header or cookie *name*)',
  '.routes.rateLimits.key.header': 'the name of an identity header',
  '.services.rateLimits.key': 'what a rate limit counts by (a header or cookie *name*)',
  '.services.rateLimits.key.header': 'the name of an identity header',
};

test('every field whose name suggests a secret is marked secret() in the schema, or listed as not one', () => {
  const all = fields(ConfigSchema, '', new Map());
  const suspects = [...all].filter(([p]) => SUSPECT.test(p.slice(p.lastIndexOf('.') + 1)));
  const unmarked = suspects.filter(([p, m]) => !m && NOT_SECRET[p] === undefined).map(([p]) => p);
  assert.deepEqual(unmarked, [], 'mark these with secret() (config/secrets.ts) or add them to NOT_SECRET with a reason');
  for (const p of ['.admin.token', '.tlsSessionCache.redis', '.autoscaling.actuator.url', '.autoscaling.actuator.headers', '.autoscaling.actuator.command', '.routes.match.headers']) {
    assert.equal(all.get(p), true, `${p} is marked`);
  }
  assert.deepEqual(Object.keys(NOT_SECRET).filter((p) => !all.has(p)), [], 'NOT_SECRET lists only fields that exist');
});

const SECRETS = ['adm1n-t0ken-SECRET-0001', 'redisUserinfoPw-SECRET', 'redisQueryPw-SECRET', 'hookUserPw-SECRET', 'hookPath-SECRET',
  'hookQueryKey-SECRET', 'hookAuthHeader-SECRET', 'hookApiKey-SECRET', 'routeHeader-SECRET', 'execToken-SECRET', 'healthKey-SECRET'];

function fullOfSecrets(actuator: 'webhook' | 'exec') {
  return validateConfig({
    admin: { address: '0.0.0.0:9901', token: SECRETS[0] },
    tlsSessionCache: { redis: `redis://default:${SECRETS[1]}@cache:6379/0?password=${SECRETS[2]}&db=0` },
    autoscaling: {
      actuator: actuator === 'webhook'
        ? { type: 'webhook', url: `https://ops:${SECRETS[3]}@hooks.example/services/${SECRETS[4]}?token=${SECRETS[5]}`, headers: { Authorization: `Bearer ${SECRETS[6]}`, 'X-Api-Key': SECRETS[7], 'Content-Type': 'application/json' } }
        : { type: 'exec', command: ['scale.sh', `--token=${SECRETS[9]}`] },
    },
    listeners: [{ name: 'w', address: '127.0.0.1:8080' }],
    routes: [{ match: { headers: [{ name: 'X-Api-Key', exact: SECRETS[8] }] }, service: 'a' }],
    services: { a: { backends: [{ address: '127.0.0.1:9000' }], healthCheck: { path: `/health?api_key=${SECRETS[10]}` } } },
  });
}

test('redactConfig: no secret of a config full of them survives, anywhere in the output', () => {
  for (const kind of ['webhook', 'exec'] as const) {
    const c = fullOfSecrets(kind);
    const before = JSON.stringify(c);
    const shown = JSON.stringify(redactConfig(c));
    for (const s of SECRETS) assert.ok(!shown.includes(s), `${s} leaked in ${shown}`);
    assert.equal(JSON.stringify(c), before, 'the live config is not modified');
  }
  const shown = redactConfig(fullOfSecrets('webhook')) as { tlsSessionCache: { redis: string }; autoscaling: { actuator: { headers: Record<string, string>; url: string } }; admin: { token: string } };
  // What is not secret stays readable.
  assert.equal(shown.tlsSessionCache.redis, `redis://default:${REDACTED}@cache:6379/0?password=${REDACTED}&db=0`);
  assert.equal(shown.autoscaling.actuator.headers['Content-Type'], 'application/json');
  assert.equal(shown.autoscaling.actuator.url, `https://ops:${REDACTED}@hooks.example/${REDACTED}?token=${REDACTED}`);
  assert.equal(shown.admin.token, REDACTED);
});

test('redactBySchema: marks are found through optional, default, arrays, records and unions; unmarked URLs lose credentials anyway', () => {
  const S = z.object({
    list: z.array(z.object({ pw: secret(z.string()).optional() })),
    map: z.record(z.string(), secret(z.string())).default({}),
    either: z.union([z.object({ a: secret(z.string()) }), z.object({ b: z.string() })]),
    plain: z.string(),
  });
  const v = S.parse({ list: [{ pw: 'p1' }, {}], map: { x: 'p2' }, either: { a: 'p3' }, plain: 'http://u:p4@h/?token=p5' });
  assert.deepEqual(redactBySchema(S, v), {
    list: [{ pw: REDACTED }, {}], map: { x: REDACTED }, either: { a: REDACTED }, plain: `http://u:${REDACTED}@h/?token=${REDACTED}`,
  });
});
