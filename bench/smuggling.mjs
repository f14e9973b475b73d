// Switchyard's request-smuggling and route-bypass corpus (test/smuggling/corpus.ts)
// run side by side against Switchyard (both engines), nginx and HAProxy, each in
// front of the same recording backend with `/admin` denied by the proxy. A vector
// is unsafe for a proxy when the backend served something under /admin, received a
// header the vector must not get through, or the next client's request was
// disturbed (see test/smuggling/verdict.ts). A correctness comparison, not timing:
// it can run on a busy machine.
//
//   npm run build && node bench/smuggling.mjs [--only nginx,haproxy] [--keep-tmp]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseSpec, specUsage } from './lib/args.mjs';
import { stop, killAllSync } from './lib/procs.mjs';
import { waitForHttp } from './lib/ready.mjs';
import { SMUGGLING_PEERS } from './lib/smuggling-peers.mjs';

const SPEC = {
  only: { env: 'BENCH_ONLY', def: '', help: 'comma-separated proxies to run (default: all)' },
  'no-install': { env: 'BENCH_NO_INSTALL', def: false, flag: true, help: 'skip bench/install.sh' },
  'keep-tmp': { env: 'BENCH_KEEP_TMP', def: false, flag: true, help: 'keep the temp dir (configs, logs)' },
};
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/smuggling.mjs', SPEC, `proxies: ${SMUGGLING_PEERS.map((p) => p.name).join(', ')}`));
const only = opts.only ? opts.only.split(',').map((s) => s.trim()) : [];

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const dist = (f) => pathToFileURL(path.join(repoRoot, 'dist/test/smuggling', f)).href;
if (!fs.existsSync(path.join(repoRoot, 'dist/test/smuggling/corpus.js'))) throw new Error('dist/test/smuggling missing: run npm run build first');
const { CORPUS, FAMILIES } = await import(dist('corpus.js'));
const { startRawBackend } = await import(dist('raw-backend.js'));
const { runVector } = await import(dist('client.js'));

if (!opts['no-install']) execFileSync('bash', [path.join(benchDir, 'install.sh')], { stdio: 'inherit' });

const freePort = () => new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'swy-smuggling-'));
process.on('exit', () => { killAllSync(); if (!opts['keep-tmp']) fs.rmSync(tmp, { recursive: true, force: true }); });
process.on('SIGINT', () => process.exit(130));

const backend = await startRawBackend();
const key = path.join(tmp, 'key.pem');
const cert = path.join(tmp, 'cert.pem');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
  '-days', '2', '-subj', '/CN=h.test', '-addext', 'subjectAltName=DNS:h.test'], { stdio: 'ignore' });
const pem = path.join(tmp, 'both.pem');
fs.writeFileSync(pem, fs.readFileSync(cert, 'utf8') + fs.readFileSync(key, 'utf8'));
const ctx = { repoRoot, tmp, backend: backend.address, cert, key, pem };

/** A short label for what the client got: first status, or how the connection ended. */
const answer = (r) => (r.outcome === undefined ? 'n/a' : r.outcome.statuses.length > 0 ? r.outcome.statuses.join('+') : r.outcome.closed ? 'closed' : 'no answer');

const results = new Map(); // peer name -> Map(vector id -> result)
const peers = SMUGGLING_PEERS.filter((p) => only.length === 0 || only.includes(p.name));
for (const peer of peers) {
  const why = peer.check(ctx);
  if (why) { console.error(`skip ${peer.name}: ${why}`); continue; }
  const port = await freePort();
  const h2Port = await freePort();
  const child = peer.start(ctx, port, h2Port);
  try {
    await waitForHttp(port, { child });
    const byId = new Map();
    for (const v of CORPUS) byId.set(v.id, await runVector({ h1Port: port, h2Port }, backend, v));
    results.set(peer.name, byId);
    const unsafe = [...byId.values()].filter((r) => r.violations.length > 0).length;
    console.error(`${peer.name}: ${CORPUS.length - unsafe}/${CORPUS.length} safe`);
  } catch (e) {
    console.error(`${peer.name}: ${e.message} (log: ${path.join(tmp, `${peer.name}.log`)})`);
  } finally {
    await stop(child);
  }
}
await backend.close();

const names = [...results.keys()];
console.log(`\nSmuggling corpus: ${CORPUS.length} vectors, safe / total per family (unsafe: the backend served /admin, got a forbidden header, or the next request was disturbed)\n`);
console.log(`| family | vectors | ${names.join(' | ')} |`);
console.log(`| --- | --- | ${names.map(() => '---').join(' | ')} |`);
for (const family of Object.keys(FAMILIES)) {
  const vs = CORPUS.filter((v) => v.family === family);
  const cells = names.map((n) => `${vs.filter((v) => results.get(n).get(v.id).violations.length === 0).length}/${vs.length}`);
  console.log(`| ${family} | ${vs.length} | ${cells.join(' | ')} |`);
}
const totals = names.map((n) => `**${CORPUS.filter((v) => results.get(n).get(v.id).violations.length === 0).length}/${CORPUS.length}**`);
console.log(`| all | ${CORPUS.length} | ${totals.join(' | ')} |`);

console.log('\nVectors where the proxies differ in safety (answer; ✗ = unsafe, with why):\n');
let differ = 0;
for (const v of CORPUS) {
  const rs = names.map((n) => results.get(n).get(v.id));
  const safe = rs.map((r) => r.violations.length === 0);
  if (safe.every((s) => s === safe[0])) continue;
  differ++;
  const cells = rs.map((r, i) => `${names[i]} ${answer(r)}${safe[i] ? '' : ` ✗ (${r.violations.join('; ')})`}`);
  console.log(`- \`${v.id}\` (${v.family}: ${v.title}): ${cells.join(', ')}`);
}
if (differ === 0) console.log('(none)');
const unsafeAll = CORPUS.filter((v) => names.every((n) => results.get(n).get(v.id).violations.length > 0));
if (unsafeAll.length > 0) console.log(`\nUnsafe on every proxy: ${unsafeAll.map((v) => `\`${v.id}\``).join(', ')}`);
