// Readiness checks: instead of sleeping blindly after starting a proxy, poll a
// GET through it until it answers 200 (or it dies, or time runs out).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

function getOnce(port, path, useTls = false) {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port, path, agent: false, timeout: 1000 };
    const get = useTls ? https.get : http.get;
    const req = get(useTls ? { ...opts, rejectUnauthorized: false } : opts, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// Resolves once GET http://127.0.0.1:port/path returns 200 (https:// with
// `tls: true`; the certificate is not checked).
export async function waitForHttp(port, { child, timeoutMs = 20000, path = '/', tls: useTls = false } = {}) {
  let exited = null;
  child?.exited.then((e) => (exited = e));
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`exited before answering (code ${exited.code}, signal ${exited.signal})`);
    last = await getOnce(port, path, useTls);
    if (last === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no 200 on 127.0.0.1:${port} within ${timeoutMs} ms (last status ${last || 'no answer'})`);
}

// One exchange for L4 peers (bench/l4.mjs): connect (over TLS if `useTls`,
// certificate not checked), write `send` if given, and succeed once the first
// bytes received start with `expect` (any byte if no `expect`).
function exchangeOnce(port, { send, expect, useTls }) {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port };
    const sock = useTls ? tls.connect({ ...opts, rejectUnauthorized: false }) : net.connect(opts);
    let got = '';
    let settled = false;
    const done = (ok) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    sock.once(useTls ? 'secureConnect' : 'connect', () => send && sock.write(send));
    sock.on('data', (d) => {
      got += d.toString('latin1');
      if (!expect || got.startsWith(expect)) done(true);
      else if (got.length >= expect.length) done(false);
    });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

// Resolves once a TCP/TLS exchange through 127.0.0.1:port works end to end
// (the listener accepting is not enough: a cluster primary may accept before
// its worker is up).
export async function waitForTcp(port, { child, timeoutMs = 20000, send, expect, tls: useTls = false } = {}) {
  let exited = null;
  child?.exited.then((e) => (exited = e));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`exited before answering (code ${exited.code}, signal ${exited.signal})`);
    if (await exchangeOnce(port, { send, expect, useTls })) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${useTls ? 'TLS ' : ''}answer${expect ? ` starting ${JSON.stringify(expect)}` : ''} on 127.0.0.1:${port} within ${timeoutMs} ms`);
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
