import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { startBackends, startSwitchyard, freePort, baseConfig, type Backend, type Switchyard } from './harness.js';

/*
 * 1 GiB each way through the proxy: bytes and checksum equal, and the proxy's memory stays flat
 * (backpressure works), measured as the worker's peak RSS while the transfer runs.
 */

const GiB = 1024 ** 3;
const CHUNK = 64 * 1024;
let backends: Backend[];
let sy: Switchyard;
const uploads = new Map<string, { bytes: number; sha1: string }>();
const downloads = new Map<string, string>();

/** A deterministic byte stream of `total` bytes whose sha1 is reported through `onDone`. */
function pattern(total: number, onDone: (sha1: string) => void): Readable {
  const block = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) block[i] = (i * 31 + 7) & 0xff;
  const hash = createHash('sha1');
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) { onDone(hash.digest('hex')); this.push(null); return; }
      const n = Math.min(CHUNK, total - sent);
      const chunk = n === CHUNK ? block : block.subarray(0, n);
      block[0] = (block[0] + 1) & 0xff; // vary content so reordering would show
      hash.update(chunk);
      sent += n;
      this.push(Buffer.from(chunk));
    },
  });
}

function rssOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch { /* exited */ }
  }
  return total;
}

/** Samples the workers' RSS every 100 ms while `work` runs; returns the peak. */
async function peakRss<T>(work: Promise<T>): Promise<[T, number]> {
  let peak = 0;
  const timer = setInterval(() => { peak = Math.max(peak, rssOf(sy.workerPids())); }, 100);
  try { return [await work, peak]; } finally { clearInterval(timer); }
}

before(async () => {
  backends = await startBackends(1, (req, res) => {
    if (req.method === 'POST') {
      const hash = createHash('sha1');
      let bytes = 0;
      req.on('data', (d: Buffer) => { bytes += d.length; hash.update(d); });
      req.on('end', () => { uploads.set(req.url!, { bytes, sha1: hash.digest('hex') }); res.end(String(bytes)); });
      return;
    }
    res.writeHead(200, { 'content-length': String(GiB) });
    pattern(GiB, (sha1) => downloads.set(req.url!, sha1)).pipe(res);
  });
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }));
});

after(async () => {
  await sy?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

test('1 GiB download streams through with equal checksum and bounded proxy memory', { timeout: 120_000 }, async () => {
  const [result, peak] = await peakRss(new Promise<{ bytes: number; sha1: string }>((resolve, reject) => {
    httpRequest(`${sy.url}/download`, (res) => {
      const hash = createHash('sha1');
      let bytes = 0;
      res.on('data', (d: Buffer) => { bytes += d.length; hash.update(d); });
      res.on('end', () => resolve({ bytes, sha1: hash.digest('hex') }));
      res.on('error', reject);
    }).on('error', reject).end();
  }));
  assert.equal(result.bytes, GiB);
  assert.equal(result.sha1, downloads.get('/download'));
  assert.ok(peak > 0 && peak < 200 * 1024 * 1024, `worker peak RSS ${Math.round(peak / 1048576)} MiB`);
});

test('1 GiB chunked upload streams through with equal checksum and bounded proxy memory', { timeout: 120_000 }, async () => {
  let sentSha1 = '';
  const [status, peak] = await peakRss(new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${sy.url}/upload`, { method: 'POST' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    pattern(GiB, (sha1) => { sentSha1 = sha1; }).pipe(req);
  }));
  assert.equal(status, 200);
  assert.deepEqual(uploads.get('/upload'), { bytes: GiB, sha1: sentSha1 });
  assert.ok(peak > 0 && peak < 200 * 1024 * 1024, `worker peak RSS ${Math.round(peak / 1048576)} MiB`);
});
