// Readiness checks: instead of sleeping blindly after starting a proxy, poll a
// GET through it until it answers 200 (or it dies, or time runs out).
import http from 'node:http';
import net from 'node:net';

function getOnce(port, path) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// Resolves once GET http://127.0.0.1:port/path returns 200.
export async function waitForHttp(port, { child, timeoutMs = 20000, path = '/' } = {}) {
  let exited = null;
  child?.exited.then((e) => (exited = e));
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`exited before answering (code ${exited.code}, signal ${exited.signal})`);
    last = await getOnce(port, path);
    if (last === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no 200 on 127.0.0.1:${port} within ${timeoutMs} ms (last status ${last || 'no answer'})`);
}

// True if nothing listens on the port: a leftover server there would answer
// the readiness probe and be measured instead of the peer.
export function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
