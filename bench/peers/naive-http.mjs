// A naive proxy: one http.request per incoming request, bodies piped both
// ways, round-robin. Uses Node's default global agent, which keeps upstream
// connections alive since Node 19. Usage: node naive-http.mjs PORT host:port,...
import http from 'node:http';

const [port, list] = process.argv.slice(2);
const backends = list.split(',').map((a) => {
  const [host, p] = a.split(':');
  return { host, port: Number(p) };
});
let next = 0;

http.createServer((req, res) => {
  const b = backends[next++ % backends.length];
  const upReq = http.request({ ...b, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
    res.writeHead(upRes.statusCode, upRes.headers);
    upRes.pipe(res);
  });
  upReq.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upReq);
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
