// The benches' throwaway TLS certificate: self-signed P-256 for localhost and
// 127.0.0.1, valid two days, written into the run's temp dir. Every TLS peer of
// a run gets the same one, so none has a cheaper key. HAProxy wants cert + key
// in one PEM (`pem`); the others take `cert` and `key`.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export function makeCert(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const r = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr}`);
  const pem = path.join(dir, 'haproxy.pem');
  fs.writeFileSync(pem, fs.readFileSync(cert, 'utf8') + fs.readFileSync(key, 'utf8'));
  return { cert, key, pem };
}
