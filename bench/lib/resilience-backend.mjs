// One backend of bench/resilience.mjs: a plain node:http server in its own
// process (so the scenario can SIGKILL it and start it again on the same
// port), answering every request with 200 and a body naming itself.
//
// Usage: node bench/lib/resilience-backend.mjs PORT NAME
// Prints "NAME ready on PORT" on stdout once it listens.
import http from 'node:http';

const port = Number(process.argv[2]);
const name = process.argv[3];
if (!Number.isInteger(port) || !name) {
  console.error('usage: node bench/lib/resilience-backend.mjs PORT NAME');
  process.exit(2);
}

const body = Buffer.from(`${name}\n`);
const server = http.createServer((req, res) => {
  req.resume(); // discard any request body
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length, 'x-backend': name });
  res.end(body);
});
// Longer than Switchyard's upstream idle use, so a keep-alive connection is
// never closed by the backend mid-run: the only upstream failures in the
// scenario are the ones the SIGKILL causes.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.on('error', (err) => {
  console.error(`${name} on ${port}: ${err.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', 1024, () => console.log(`${name} ready on ${port}`));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
