// The ceiling of any Node proxy: raw net.Socket both sides, round-robin keep-alive pools, the
// request head forwarded untouched, one request at a time per connection, and only GET
// responses with Content-Length understood. No parsing beyond finding the head's end and
// Content-Length, no header rewriting, no routing, no checks: not a proxy anyone should run,
// the cost of Node's sockets alone. Usage: node floor.mjs PORT host:port,host:port
import net from 'node:net';

const [port, list] = process.argv.slice(2);
const targets = list.split(',').map((a) => ({ host: a.slice(0, a.lastIndexOf(':')), port: Number(a.slice(a.lastIndexOf(':') + 1)) }));
const idle = targets.map(() => []);
let next = 0;

function upstream(i) {
  const pooled = idle[i].pop();
  if (pooled) return pooled;
  const s = net.connect(targets[i]);
  s.setNoDelay(true);
  s.on('error', () => s.destroy());
  return s;
}

net.createServer((client) => {
  client.setNoDelay(true);
  let head = '';
  client.on('data', (d) => {
    head += d.latin1Slice();
    if (!head.includes('\r\n\r\n')) return;
    const i = next++ % targets.length;
    const up = upstream(i);
    let buf = null;
    let need = -1;
    const onData = (r) => {
      buf = buf === null ? r : Buffer.concat([buf, r]);
      if (need < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const m = /content-length: *(\d+)/i.exec(buf.latin1Slice(0, end));
        need = end + 4 + Number(m ? m[1] : 0);
      }
      if (buf.length < need) return;
      up.off('data', onData);
      idle[i].push(up);
      client.write(buf);
    };
    up.on('data', onData);
    up.write(head, 'latin1');
    head = '';
  });
  client.on('error', () => client.destroy());
}).listen(Number(port), '127.0.0.1', () => console.log('ready'));
