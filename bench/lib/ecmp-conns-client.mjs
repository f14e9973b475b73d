// Long-lived TCP connections through the ECMP router, for bench/ecmp-flows.mjs (runs in the client
// namespace). Opens --count connections to VIP:PORT; each node's server greets with its name, then
// echoes. On each "probe" line on stdin, every connection sends one byte and waits up to 1 s for
// the echo; one JSON line per probe on stdout: [{ node, alive }] in connection order. A connection
// that the router moved to another node is reset by that node (no socket for it there).
import net from 'node:net';
import readline from 'node:readline';

const [vip, port, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const conns = [];

function open() {
  return new Promise((resolve, reject) => {
    const c = { node: '?', alive: true, waiter: undefined, buf: '' };
    const s = net.connect({ host: vip, port }, () => undefined);
    c.socket = s;
    s.setNoDelay(true);
    s.on('data', (d) => {
      c.buf += d.toString();
      if (c.node === '?' && c.buf.includes('\n')) { c.node = c.buf.slice(0, c.buf.indexOf('\n')); c.buf = ''; resolve(c); return; }
      if (c.waiter && c.buf.includes('p')) { c.buf = ''; c.waiter(true); }
    });
    const dead = () => { c.alive = false; c.waiter?.(false); };
    s.on('error', (e) => { dead(); reject(e); });
    s.on('close', dead);
    setTimeout(() => reject(new Error('connect timeout')), 3000).unref();
  });
}

function probe(c) {
  if (!c.alive) return Promise.resolve(false);
  return new Promise((resolve) => {
    const t = setTimeout(() => { c.waiter = undefined; resolve(false); }, 1000);
    c.waiter = (ok) => { clearTimeout(t); c.waiter = undefined; if (!ok) c.alive = false; resolve(ok); };
    c.socket.write('p');
  });
}

for (let i = 0; i < count; i++) conns.push(await open());
process.stdout.write('ready\n');
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (line.trim() === 'probe') {
    const alive = await Promise.all(conns.map(probe));
    process.stdout.write(`${JSON.stringify(conns.map((c, i) => ({ node: c.node, alive: alive[i] })))}\n`);
  } else if (line.trim() === 'quit') break;
}
for (const c of conns) c.socket.destroy();
