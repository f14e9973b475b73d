// The Switchyard config of the benches: one listener on 127.0.0.1:port (its
// `engine` if given), one service `app` over `backends` ("host:port") with
// `algorithm` and the `service` lines, `top` lines at the top level, `listener`
// lines in the listener. Short drain, so stopping never waits the 30 s default.
// `tls` ({ cert, key } PEM files) makes the listener `protocol: https` (ALPN
// offers h2 by default).
export function switchyardYaml({ port, engine, backends, service = [], top = [], listener = [], workers = 1, logLevel = 'info', algorithm = 'round-robin', tls = null }) {
  return `workers: ${workers}
logLevel: ${logLevel}
accessLog: false
shutdown: { drainTimeout: 1s }
${top.join('\n')}
listeners:
  - name: web
    address: 127.0.0.1:${port}
${engine === undefined ? '' : `    engine: ${engine}`}
${tls ? `    protocol: https\n    tls: { certificates: [{ cert: ${tls.cert}, key: ${tls.key} }] }` : ''}
${listener.map((l) => `    ${l}`).join('\n')}
routes:
  - name: all
    match: { path: { prefix: / } }
    service: app
services:
  app:
    balancer: { algorithm: ${algorithm} }
${service.map((l) => `    ${l}`).join('\n')}
    backends:
${backends.map((b) => `      - address: ${b}`).join('\n')}
`;
}
