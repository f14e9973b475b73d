import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { startSwitchyard, freePort, sleep, pollUntil, type Switchyard } from './harness.js';
import { dig, udpExchange } from '../support/dig.js';

/*
 * The GeoDNS responder (`protocol: dns`) through a real Switchyard and real `dig` on 127.0.0.1:
 * answers by client subnet (ECS and source address), TTL, SOA/NS, TCP fallback for a large
 * answer, malformed queries, a query flood and a TCP connection cap — bounded, no crash.
 */

let sy: Switchyard;
let port: number;
let adminPort: number;
const Z = 'geo.example.test';

/** The test config; `subnets` replaces the client subnet table. */
function config(subnets = [{ cidr: '198.51.100.0/24', region: 'us' }, { cidr: '203.0.113.0/24', region: 'big' }, { cidr: '127.0.0.3/32', region: 'us' }]) {
  return {
    workers: 1,
    admin: { address: `127.0.0.1:${adminPort}` },
    listeners: [{ name: 'dns', address: `127.0.0.1:${port}`, protocol: 'dns', maxConnections: 4 }],
    dns: {
      zone: Z, names: ['www', '@'],
      nameservers: [{ name: `ns1.${Z}`, addresses: ['127.0.0.1'] }, { name: `ns2.${Z}`, addresses: ['127.0.0.2'] }],
      regions: {
        eu: { vips: ['10.0.1.1', '2001:db8:1::1'], fallback: ['us'] },
        us: { vips: ['10.0.2.1'], fallback: ['eu'] },
        big: { vips: Array.from({ length: 60 }, (_, i) => `10.9.0.${i + 1}`) },
      },
      defaultRegion: 'eu', maxAnswers: 64,
      clientSubnets: subnets,
      limits: { queriesPerSecond: 20, burst: 40, tcpIdle: '2s' },
    },
  };
}

before(async () => {
  port = await freePort();
  adminPort = await freePort();
  sy = await startSwitchyard(config());
});

after(async () => { await sy?.stop(); });

test('A answers by ECS client subnet, else by source address; TTL 30 s; scope echoed', async () => {
  const us = await dig(port, [`www.${Z}`, 'A', '+subnet=198.51.100.7/24']);
  assert.equal(us.status, 'NOERROR');
  assert.deepEqual(us.answers.map((a) => [a.data, a.ttl]), [['10.0.2.1', 30]]);
  assert.equal(us.subnet, '198.51.100.0/24/24');
  assert.ok(us.flags.includes('aa'));
  const eu = await dig(port, [`www.${Z}`, 'A']);
  assert.deepEqual(eu.answers.map((a) => a.data), ['10.0.1.1'], 'no ECS: 127.0.0.1 is in no subnet → defaultRegion');
  assert.equal(eu.subnet, undefined);
  const bySource = await dig(port, ['-b', '127.0.0.3', `www.${Z}`, 'A']);
  assert.deepEqual(bySource.answers.map((a) => a.data), ['10.0.2.1'], 'the source address picks the region without ECS');
  const v6 = await dig(port, [`www.${Z}`, 'AAAA', '+subnet=192.0.2.0/24']);
  assert.deepEqual(v6.answers.map((a) => a.data), ['2001:db8:1::1']);
});

test('SOA and NS for the zone (with glue), NXDOMAIN inside, REFUSED outside', async () => {
  const soa = await dig(port, [Z, 'SOA']);
  assert.match(soa.answers[0].data, new RegExp(`^ns1\\.${Z}\\. hostmaster\\.${Z}\\. 1 3600 900 604800 30$`));
  const ns = await dig(port, [Z, 'NS']);
  assert.deepEqual(ns.answers.map((a) => a.data).sort(), [`ns1.${Z}.`, `ns2.${Z}.`]);
  assert.match(ns.text, new RegExp(`ns2\\.${Z}\\.\\s+30\\s+IN\\s+A\\s+127\\.0\\.0\\.2`));
  const nx = await dig(port, [`nope.${Z}`, 'A']);
  assert.equal(nx.status, 'NXDOMAIN');
  assert.match(nx.text, /AUTHORITY SECTION:\n\S+\s+30\s+IN\s+SOA/);
  assert.equal((await dig(port, ['example.com', 'A'])).status, 'REFUSED');
});

test('an answer too large for UDP is truncated (TC) and dig gets it whole over TCP', async () => {
  const tc = await dig(port, [`www.${Z}`, 'A', '+subnet=203.0.113.0/24', '+bufsize=512', '+ignore']);
  assert.ok(tc.flags.includes('tc'), tc.text);
  assert.equal(tc.answers.length, 0);
  const whole = await dig(port, [`www.${Z}`, 'A', '+subnet=203.0.113.0/24', '+bufsize=512']);
  assert.match(whole.text, /Truncated, retrying in TCP mode/);
  assert.equal(whole.answers.length, 60);
});

test('malformed queries get FORMERR or nothing, and the responder keeps answering', async () => {
  const good = dnsPacket.encode({ id: 77, type: 'query', questions: [{ type: 'A', name: `www.${Z}` }] });
  const loop = Buffer.concat([good.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  const huge = Buffer.from(good); huge.writeUInt16BE(65535, 4); huge.writeUInt16BE(65535, 6); huge.writeUInt16BE(65535, 10);
  const cut = good.subarray(0, good.length - 3);
  const tiny = good.subarray(0, 5);
  const big = Buffer.concat([good, Buffer.alloc(2000)]);
  const replies = await udpExchange(port, [loop, huge, cut, tiny, big], 500, '127.0.0.4');
  const rcodes = replies.map((r) => (dnsPacket.decode(r) as { rcode?: string }).rcode);
  assert.deepEqual(rcodes, ['FORMERR', 'FORMERR', 'FORMERR'], 'three answered FORMERR; the 5-byte and the oversized one dropped');
  // Over TCP: a frame longer than maxQuerySize closes the connection.
  const closed = await new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(Buffer.from([0xff, 0xff, 1, 2, 3])));
    const t = setTimeout(() => { s.destroy(); resolve(false); }, 3000);
    s.on('close', () => { clearTimeout(t); resolve(true); });
    s.on('error', () => undefined);
  });
  assert.ok(closed);
  assert.deepEqual((await dig(port, [`www.${Z}`, 'A', '-b', '127.0.0.5'])).answers.map((a) => a.data), ['10.0.1.1']);
});

test('a flood from one source is cut to its rate; other sources are still answered', async () => {
  const q = dnsPacket.encode({ id: 5, type: 'query', questions: [{ type: 'A', name: `www.${Z}` }] });
  const started = Date.now();
  const replies = await udpExchange(port, Array.from({ length: 3000 }, () => q), 800, '127.0.0.6');
  const elapsedS = (Date.now() - started) / 1000;
  // burst 40 + 20/s: at most ~40 + 20 × elapsed answered of 3000.
  assert.ok(replies.length >= 20 && replies.length <= 40 + 20 * elapsedS + 5, `${replies.length} answered in ${elapsedS}s`);
  assert.equal((await dig(port, [`www.${Z}`, 'A', '-b', '127.0.0.7'])).status, 'NOERROR');
});

test('/metrics counts the queries by outcome, dropped ones included', async () => {
  // The primary collects the workers' counters once a second, and /metrics shows the last
  // collection: read until the flood of the test before is in it (or 5 s pass), then check it all.
  const scrape = async () => (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const countIn = (text: string, outcome: string) => Number(new RegExp(`^switchyard_dns_queries_total\\{listener="dns",outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  const text = await pollUntil('the flood in a collection', scrape, (t) => countIn(t, 'dropped-rate') >= 100).catch(scrape);
  const count = (outcome: string) => countIn(text, outcome);
  assert.ok(count('answer') >= 5, text.slice(0, 500));
  assert.ok(count('formerr') >= 3);
  assert.ok(count('truncated') >= 2);
  assert.ok(count('dropped-rate') >= 100, 'the flood (the kernel drops part of it before the socket)');
  assert.ok(count('dropped-size') >= 1);
  assert.ok(count('nxdomain') >= 1 && count('refused') >= 1);
});

test('TCP connections are capped and idle ones closed', async () => {
  const open = await Promise.all(Array.from({ length: 8 }, () => new Promise<{ closedAt: number | null }>((resolve) => {
    const r = { closedAt: null as number | null };
    const s = connect(port, '127.0.0.1', () => resolve(r));
    s.on('close', () => { r.closedAt = Date.now(); });
    s.on('error', () => undefined);
  })));
  await sleep(300);
  const start = Date.now();
  assert.equal(open.filter((o) => o.closedAt !== null).length, 4, 'maxConnections 4: the other four closed at once');
  await sleep(3000);
  assert.equal(open.filter((o) => o.closedAt === null).length, 0, 'idle ones closed after tcpIdle (2s)');
  assert.ok(Date.now() - start < 10_000);
});

test('a reload moves a subnet to another region; an invalid dns block is rejected and the last good one keeps answering', async () => {
  const ask = async () => (await dig(port, [`www.${Z}`, 'A', '+subnet=198.51.100.0/24', '-b', '127.0.0.8'])).answers.map((a) => a.data);
  assert.deepEqual(await ask(), ['10.0.2.1']);
  let mark = sy.output().length;
  sy.writeConfig(config([{ cidr: '198.51.100.0/24', region: 'eu' }]));
  await sy.waitForLog(/"msg":"config applied"/, 15_000, mark);
  assert.deepEqual(await ask(), ['10.0.1.1']);
  for (const [subnets, why] of [
    [[{ cidr: '198.51.100.0/33', region: 'us' }], /dns\.clientSubnets\[0\]\.cidr: expected a CIDR/],
    [[{ cidr: '198.51.100.0/24', region: 'mars' }], /dns\.clientSubnets\[0\]\.region: unknown region \\"mars\\"/],
  ] as const) {
    mark = sy.output().length;
    sy.writeConfig(config([...subnets]));
    assert.match(await sy.waitForLog(/"msg":"config rejected[^\n]*/, 15_000, mark), why);
  }
  assert.deepEqual(await ask(), ['10.0.1.1']);
});
