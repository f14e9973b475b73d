// A naive L4 proxy: every accepted connection is socket.pipe()d to a new
// connection to the backend, both ways, nothing else (no half-close handling,
// no timeouts, no balancing). The floor of a Node TCP proxy.
// Usage: node naive-tcp.mjs PORT:HOST:BACKEND_PORT [...]  (one listener each)
import net from 'node:net';

for (const spec of process.argv.slice(2)) {
  const [port, host, backendPort] = spec.split(':');
  net
    .createServer((client) => {
      const up = net.connect({ host, port: Number(backendPort) });
      client.pipe(up);
      up.pipe(client);
      client.on('error', () => up.destroy());
      up.on('error', () => client.destroy());
    })
    .listen(Number(port), '127.0.0.1');
}
