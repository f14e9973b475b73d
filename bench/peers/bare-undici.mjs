// The floor of a Node proxy: node:http in front, one undici Pool per backend,
// round-robin, no features. Usage: node bare-undici.mjs PORT host:port,host:port
import http from 'node:http';
import { Pool } from 'undici';

const [port, list] = process.argv.slice(2);
const pools = list.split(',').map((a) => new Pool(`http://${a}`, { connections: 128 }));
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);
const strip = (h) => Object.fromEntries(Object.entries(h).filter(([k]) => !HOP.has(k)));
let next = 0;

http.createServer(async (req, res) => {
  const pool = pools[next++ % pools.length];
  try {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const up = await pool.request({ path: req.url, method: req.method, headers: strip(req.headers), body: hasBody ? req : null });
    res.writeHead(up.statusCode, strip(up.headers));
    up.body.pipe(res);
  } catch {
    res.writeHead(502).end();
  }
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
