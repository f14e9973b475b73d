// Bulk backend of bench/l4.mjs: every accepted connection is sent the same
// 256 KiB buffer over and over, as fast as the connection takes it
// (backpressure: write until write() says stop, resume on 'drain'); anything
// received is discarded. The bytes flow backend -> proxy -> l4-sink.mjs.
// Writing a static buffer costs no allocation, so the generator core is not
// spent on garbage collection.
//
// Usage: node bench/lib/l4-source.mjs PORT   (prints "ready" once listening)
import net from 'node:net';

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) {
  console.error('usage: node bench/lib/l4-source.mjs PORT');
  process.exit(2);
}
const CHUNK = Buffer.alloc(256 * 1024, 'switchyard-l4-bulk ');

const server = net.createServer({ noDelay: true }, (socket) => {
  let open = true;
  socket.once('close', () => (open = false));
  socket.on('error', () => {});
  socket.resume(); // discard input
  const pump = () => {
    while (open && socket.write(CHUNK));
  };
  socket.on('drain', pump);
  pump();
});
server.on('error', (err) => {
  console.error(`l4-source ${port}: ${err.message}`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', 1024, () => console.log('ready'));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
