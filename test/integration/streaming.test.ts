import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { startBackends, startSwitchyard, freePort, baseConfig, type Backend, type Switchyard } from './harness.js';

/*
 * Streams each way through the proxy with a reader that stops: the writer is stopped too (the proxy
 * buffers no more than its sockets hold), then every byte arrives with an equal checksum, and the
 * worker's peak RSS stays bounded. 128 MiB proves it; bench/big-transfer.mjs moves 1 GiB each way.
 */

const TOTAL = 128 * 2 ** 20;
const CHUNK = 64 * 1024;
let backends: Backend[];
let sy: Switchyard;
const uploads = new Map<string, { bytes: number; sha1: string }>();
const downloads = new Map<string, string>();
/** Bytes the backend's download stream has produced so far. */
let downloadProduced = 0;
/** Resolved by the upload test when the backend may start reading. */
let releaseUpload: () => void = () => undefined;

/** A deterministic byte stream of `total` bytes whose sha1 is reported through `onDone`; `onChunk` counts what it produced. */
function pattern(total: number, onDone: (sha1: string) => void, onChunk: (n: number) => void = () => undefined): Readable {
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
      onChunk(n);
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
      // Reads nothing until the test releases it: the client's upload must stall meanwhile.
      new Promise<void>((r) => { releaseUpload = r; }).then(() => {
        req.on('data', (d: Buffer) => { bytes += d.length; hash.update(d); });
        req.on('end', () => { uploads.set(req.url!, { bytes, sha1: hash.digest('hex') }); res.end(String(bytes)); });
      });
      return;
    }
    res.writeHead(200, { 'content-length': String(TOTAL) });
    pattern(TOTAL, (sha1) => downloads.set(req.url!, sha1), (n) => { downloadProduced += n; }).pipe(res);
  });
  const port = await freePort();
  sy = await startSwitchyard(baseConfig(port, { app: { backends: [{ address: backends[0].address }] } }));
});

after(async () => {
  await sy?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

/** Waits until `progress()` stops growing (checked every 250 ms, at most 10 s); returns where it stopped. */
async function stalled(progress: () => number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 40 && progress() !== last; i++) {
    last = progress();
    await new Promise((r) => setTimeout(r, 250));
  }
  return progress();
}

/** The most a stalled pipeline may hold: the sockets' kernel buffers and the proxy's stream buffers, far below TOTAL. */
const HELD_MAX = TOTAL / 2;

test('a download to a client that stops reading stops the backend; then it streams through with equal checksum and bounded proxy memory', { timeout: 60_000 }, async () => {
  downloadProduced = 0;
  const [result, peak] = await peakRss(new Promise<{ bytes: number; sha1: string; held: number }>((resolve, reject) => {
    httpRequest(`${sy.url}/download`, (res) => {
      res.pause();
      const hash = createHash('sha1');
      let bytes = 0;
      void stalled(() => downloadProduced).then((held) => {
        res.on('data', (d: Buffer) => { bytes += d.length; hash.update(d); });
        res.on('end', () => resolve({ bytes, sha1: hash.digest('hex'), held }));
        res.resume();
      });
      res.on('error', reject);
    }).on('error', reject).end();
  }));
  assert.ok(result.held < HELD_MAX, `the backend produced ${result.held} bytes while the client read nothing`);
  assert.equal(result.bytes, TOTAL);
  assert.equal(result.sha1, downloads.get('/download'));
  assert.ok(peak > 0 && peak < 200 * 1024 * 1024, `worker peak RSS ${Math.round(peak / 1048576)} MiB`);
});

test('a chunked upload to a backend that does not read stops the client; then it streams through with equal checksum and bounded proxy memory', { timeout: 60_000 }, async () => {
  let sentSha1 = '';
  let produced = 0;
  let held = 0;
  const [status, peak] = await peakRss(new Promise<number>((resolve, reject) => {
    const req = httpRequest(`${sy.url}/upload`, { method: 'POST' }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject);
    pattern(TOTAL, (sha1) => { sentSha1 = sha1; }, (n) => { produced += n; }).pipe(req);
    void stalled(() => produced).then((n) => { held = n; releaseUpload(); });
  }));
  assert.ok(held < HELD_MAX, `the client wrote ${held} bytes while the backend read nothing`);
  assert.equal(status, 200);
  assert.deepEqual(uploads.get('/upload'), { bytes: TOTAL, sha1: sentSha1 });
  assert.ok(peak > 0 && peak < 200 * 1024 * 1024, `worker peak RSS ${Math.round(peak / 1048576)} MiB`);
});
