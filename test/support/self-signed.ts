import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes a fresh self-signed EC certificate for `name` (CN and DNS SAN, 2 days) to a new temp dir; returns the PEM file paths. */
export function selfSignedCert(name = 'site.test'): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'swy-cert-'));
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`], { stdio: 'ignore' });
  return { cert, key };
}
