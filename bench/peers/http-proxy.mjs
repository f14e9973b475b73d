// The `http-proxy` npm package with a keep-alive agent (without one it sends
// `Connection: close` upstream and reconnects every request), round-robin.
// Usage: node http-proxy.mjs PORT host:port,...
import http from 'node:http';
import httpProxy from 'http-proxy';

const [port, list] = process.argv.slice(2);
const targets = list.split(',').map((a) => `http://${a}`);
const proxy = httpProxy.createProxyServer({ agent: new http.Agent({ keepAlive: true, maxSockets: 128 }) });
proxy.on('error', (_err, _req, res) => {
  if (res.writeHead && !res.headersSent) res.writeHead(502);
  res.end();
});
let next = 0;

http.createServer((req, res) => {
  proxy.web(req, res, { target: targets[next++ % targets.length] });
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
