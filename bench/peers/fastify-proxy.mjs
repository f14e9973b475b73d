// @fastify/http-proxy (reply-from over undici), logging off, round-robin over
// the backends via replyOptions.getUpstream. Usage: node fastify-proxy.mjs PORT host:port,...
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const [port, list] = process.argv.slice(2);
const upstreams = list.split(',').map((a) => `http://${a}`);
let next = 0;

const app = Fastify({ logger: false });
await app.register(proxy, {
  upstream: '', // empty: reply-from then takes the origin from getUpstream's URL
  undici: { connections: 128 },
  replyOptions: { getUpstream: () => upstreams[next++ % upstreams.length] },
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
console.log('ready');
