// Cost of the accept-time abuse checks (src/listener/accept-gate.ts) per connection, in process:
// the allow/deny + temporary-block decision (address parse, two trie walks) with lists of 10 to
// 100,000 prefixes, and a per-client limit's admit + release, with 65,536 clients tracked.
// What a refused or admitted connection pays besides accept(2) and getpeername(2).
//
//   npm run build && node bench/accept-gate.mjs [--checks 1000000]   (--help for the flags)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseSpec, specUsage } from './lib/args.mjs';

const SPEC = { checks: { env: 'GATE_CHECKS', def: '1000000', help: 'decisions timed per case' } };
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/accept-gate.mjs', SPEC));
const n = Number(opts.checks);
if (!Number.isInteger(n) || n < 1000) throw new Error('--checks must be an integer >= 1000');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (f) => import(pathToFileURL(path.join(root, 'dist/src', f)).href);
const { AccessList, BlockSet } = await load('defence/access-list.js');
const { ClientLimiter } = await load('defence/client-limits.js');
const { parseIp } = await load('util/cidr.js');

const time = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
const v4 = (i) => `${(i >>> 24) & 255}.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
// Client addresses spread over the IPv4 space (a multiplicative hash of the index).
const clients = Array.from({ length: 4096 }, (_, i) => v4(Math.imul(i + 1, 2654435761) >>> 0));
const clients6 = Array.from({ length: 4096 }, (_, i) => `2001:db8:${((i * 7919) & 0xffff).toString(16)}:${i.toString(16)}::${i.toString(16)}`);

console.log('| case | ns/connection |');
console.log('| --- | --- |');
for (const rules of [10, 1000, 100_000]) {
  const deny = Array.from({ length: rules }, (_, i) => `${v4(Math.imul(i + 7, 2246822519) >>> 8 << 8)}/24`);
  const acl = new AccessList([], deny);
  const blocks = new BlockSet(Array.from({ length: 100 }, (_, i) => ({ cidr: `${v4((i + 1) << 16)}/16`, expiresAt: Date.now() + 3600_000, source: 'admin' })));
  for (const [name, list] of [['IPv4', clients], ['IPv6', clients6]]) {
    let denied = 0;
    const ms = time(() => { for (let i = 0; i < n; i++) if (acl.check(parseIp(list[i & 4095]), blocks, 0) !== 'ok') denied++; });
    console.log(`| ${rules} deny prefixes + 100 blocks, ${name} client (${denied} refused) | ${((ms * 1e6) / n).toFixed(0)} |`);
  }
}
const limiter = new ClientLimiter({ maxConnections: 50, rate: 20, burst: 40, maxTracked: 65_536 });
const many = Array.from({ length: 65_536 }, (_, i) => v4(Math.imul(i + 1, 2654435761) >>> 0));
for (const k of many) limiter.admit(k, 0);
const ms = time(() => { for (let i = 0; i < n; i++) { const k = many[i & 65_535]; if (limiter.admit(k, i) === 'ok') limiter.release(k, i); } });
console.log(`| per-client limits: admit + release, 65,536 clients tracked | ${((ms * 1e6) / n).toFixed(0)} |`);
