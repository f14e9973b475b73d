// Bulk load generator of bench/l4.mjs: opens N connections to 127.0.0.1:PORT
// and reads (discards) whatever arrives, counting bytes. Reads go into one
// static buffer (`onread`), so receiving allocates nothing.
//
// Usage: node bench/lib/l4-sink.mjs PORT CONNECTIONS MAX_SECONDS
// Protocol on stdin/stdout, one line each: prints "ready" once every
// connection has received data; for every "mark" line read it prints
// {"t": ms (monotonic), "bytes": total, "open": n, "closed": n, "errors": [...]}.
// Exits on "stop", stdin end, SIGTERM, or after MAX_SECONDS (a bound).
import net from 'node:net';
import readline from 'node:readline';

const [port, connections, maxSeconds] = process.argv.slice(2).map(Number);
if (!Number.isInteger(port) || !(connections >= 1) || !(maxSeconds > 0)) {
  console.error('usage: node bench/lib/l4-sink.mjs PORT CONNECTIONS MAX_SECONDS');
  process.exit(2);
}

const buffer = Buffer.allocUnsafe(256 * 1024);
let bytes = 0;
let open = 0;
let closed = 0;
let receiving = 0;
const errors = [];
let ready = false;

for (let i = 0; i < connections; i++) {
  let first = true;
  let connected = false;
  const s = net.connect({
    host: '127.0.0.1',
    port,
    noDelay: true,
    onread: {
      buffer,
      callback: (n) => {
        bytes += n;
        if (first) {
          first = false;
          if (++receiving === connections && !ready) {
            ready = true;
            process.stdout.write('ready\n');
          }
        }
      },
    },
  });
  s.once('connect', () => {
    connected = true;
    open++;
  });
  s.on('error', (e) => errors.length < 10 && errors.push(e.code ?? e.message));
  s.once('close', () => {
    if (connected) open--;
    closed++;
  });
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line === 'mark') process.stdout.write(JSON.stringify({ t: performance.now(), bytes, open, closed, errors }) + '\n');
  else if (line === 'stop') process.exit(0);
});
rl.on('close', () => process.exit(0));
setTimeout(() => process.exit(0), maxSeconds * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
