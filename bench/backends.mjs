// Fast fake upstreams for the benchmark: one process, a raw `net` server per
// port, answering every request with the same small keep-alive 200.
// Raw sockets instead of node:http so the backends cost as little CPU as
// possible and are never the bottleneck (they share core 0 with wrk).
//
// Usage: node bench/backends.mjs 19001 19002 19003
// Prints "ready" on stdout once every port listens.
import net from 'node:net';

const ports = process.argv.slice(2).map(Number);
if (ports.length === 0 || ports.some((p) => !Number.isInteger(p))) {
  console.error('usage: node bench/backends.mjs PORT...');
  process.exit(2);
}

const HEAD_END = Buffer.from('\r\n\r\n');

function response(index, close) {
  const body = 'hello world\n';
  return Buffer.from(
    'HTTP/1.1 200 OK\r\n' +
      'Content-Type: text/plain\r\n' +
      `Content-Length: ${body.length}\r\n` +
      // Lets a check see that a proxy really spreads load over the backends.
      `X-Backend: ${index}\r\n` +
      `Connection: ${close ? 'close' : 'keep-alive'}\r\n\r\n` +
      body,
  );
}

function serve(port, index) {
  const keepAlive = response(index, false);
  const closing = response(index, true);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    let pending = Buffer.alloc(0);
    let skip = 0; // request-body bytes still to discard
    socket.on('data', (chunk) => {
      let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      const out = [];
      let close = false;
      for (;;) {
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          skip -= n;
          buf = buf.subarray(n);
          if (skip > 0) break;
        }
        const end = buf.indexOf(HEAD_END);
        if (end < 0) break;
        // Headers are parsed only as far as needed: body length and close.
        const head = buf.toString('latin1', 0, end).toLowerCase();
        const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
        skip = cl ? Number(cl[1]) : 0;
        close = /\r\nconnection:\s*close/.test(head) || head.includes(' http/1.0\r\n');
        out.push(close ? closing : keepAlive);
        buf = buf.subarray(end + 4);
        if (close) break;
      }
      pending = Buffer.from(buf);
      // One write per chunk: pipelined requests get one batched answer.
      if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
      if (close) socket.end();
    });
    socket.on('error', () => {});
  });
  server.on('error', (err) => {
    console.error(`backend ${port}: ${err.message}`);
    process.exit(1);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', 1024, resolve));
}

await Promise.all(ports.map((p, i) => serve(p, i + 1)));
console.log('ready');
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
