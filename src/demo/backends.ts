import { createServer, type Server } from 'node:http';

/**
 * Small demo backends for the quickstart: each answers every request with a JSON line naming
 * itself, the path and the X-Forwarded-For it saw, so repeated `curl`s show the spread.
 */
export async function startDemoBackends(ports: readonly number[], host = '127.0.0.1'): Promise<Server[]> {
  return Promise.all(ports.map((port, i) => new Promise<Server>((resolve, reject) => {
    const name = `backend-${i + 1}`;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const body = JSON.stringify({ backend: name, port, method: req.method, path: req.url,
          forwardedFor: req.headers['x-forwarded-for'] ?? null, requestId: req.headers['x-request-id'] ?? null }) + '\n';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  })));
}
