// The client side of bench/idle-memory.mjs, run in its own process (it needs
// one file descriptor per connection: started under a raised `ulimit -n`).
// Opens N keep-alive connections to 127.0.0.1:PORT, at most CONCURRENCY
// connecting at once, sends one GET on each and reads its whole response, so
// every connection is used-then-idle; then holds them all. Prints one JSON line
// {"ok","failed"} when done; on each line read from stdin, prints {"open"}: how
// many are still open (the proxy must not have closed any while measured).
//
// Usage: node bench/lib/idle-clients.mjs PORT N [CONCURRENCY]
import net from 'node:net';
import readline from 'node:readline';

const [port, n, concurrency = 200] = process.argv.slice(2).map(Number);
const REQUEST = 'GET / HTTP/1.1\r\nHost: bench\r\n\r\n';
const held = [];
let open = 0;

// One GET on a new connection; resolves true once a whole 200 response is in.
function useOnce() {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let got = Buffer.alloc(0);
    let settled = false;
    const done = (ok) => {
      if (settled) return;
      settled = true;
      sock.removeListener('data', onData);
      if (!ok) sock.destroy();
      resolve(ok);
    };
    const onData = (chunk) => {
      got = Buffer.concat([got, chunk]);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = got.toString('latin1', 0, end);
      const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? NaN);
      if (!head.startsWith('HTTP/1.1 200') || !Number.isInteger(len)) done(false);
      else if (got.length >= end + 4 + len) done(true);
    };
    sock.once('connect', () => {
      open++;
      sock.once('close', () => { open--; done(false); });
      sock.write(REQUEST);
    });
    sock.on('data', onData);
    sock.on('error', () => done(false));
    held.push(sock);
  });
}

let next = 0;
let ok = 0;
let failed = 0;
async function lane() {
  while (next < n) {
    next++;
    if (await useOnce()) ok++;
    else failed++;
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
console.log(JSON.stringify({ ok, failed }));
readline.createInterface({ input: process.stdin }).on('line', () => console.log(JSON.stringify({ open })));
process.on('SIGTERM', () => process.exit(0));
