import { Agent, request } from 'undici';
import { startBackendProcess } from '../dist/test/support/backend-process.js';
import { startSwitchyard, freePort, baseConfig, sleep } from '../dist/test/integration/harness.js';
const [hedge, freeze, rate] = [process.argv[2] === 'on', process.argv[3] === 'freeze', Number(process.argv[4] ?? 900)];
const bs = [];
for (const n of ['a','b','c']) bs.push(await startBackendProcess(n, 200));
const admin = `127.0.0.1:${await freePort()}`;
const sy = await startSwitchyard({ ...baseConfig(await freePort(), { app: { balancer: { algorithm: 'round-robin' }, backends: bs.map(b => ({address: b.address})), timeouts: { request: '5s' }, maxConnectionsPerBackend: 1, hedging: { enabled: hedge, minDelay: '200ms', maxDelay: '300ms' } } }, undefined, { admin: { address: admin, auditLog: { path: '/tmp/hdbg/audit.log' } } }), listeners: [{ name: 'web', address: `127.0.0.1:${await freePort()}`, engine: 'node' }] });
const agent = new Agent({ connections: 1024, headersTimeout: 15000 });
const t0 = performance.now(); const res = [];
try {
  const ps = [];
  for (let i = 0; i < 200; i++) {
    if (i === 50 && freeze) bs[1].freeze();
    for (let k = 0; k < rate / 100; k++) { const s = performance.now(); ps.push(request(sy.url + '/y', { dispatcher: agent }).then(async r => { await r.body.text(); res.push([r.statusCode, s - t0, performance.now() - s]); }, e => res.push([e.code, s - t0, performance.now() - s]))); }
    await sleep(10);
  }
  await Promise.all(ps);
  const bad = res.filter(r => r[0] !== 200); console.log('bad', bad.length, bad.slice(0, 3), 'max', Math.max(...res.map(r => r[2])));
  await sleep(1200);
  const m = await (await fetch(`http://${admin}/metrics`)).text();
  console.log(m.split('\n').filter(l => /hedge|retr|eject/.test(l) && !l.startsWith('#')).join('\n'));
} finally { await agent.close(); await sy.stop(); for (const b of bs) await b.close(); }
