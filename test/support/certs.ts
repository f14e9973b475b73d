/*
 * Certificates for tests, made with the openssl CLI: self-signed, with the names and validity
 * window asked for (`openssl ca -selfsign` takes explicit dates, so an expired one is possible).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair { cert: string; key: string }

const DAY_MS = 86_400_000;
/** openssl's date format: YYYYMMDDHHMMSSZ. */
const asn1 = (d: Date): string => `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;

/** A self-signed EC certificate for `names` (the first is the CN), valid from `fromDays` to `toDays` days from now. */
export function makeCert(names: string[], opts: { fromDays?: number; toDays?: number } = {}): CertPair {
  const dir = mkdtempSync(join(tmpdir(), 'swy-cert-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = d', '[d]', `database = ${join(dir, 'index.txt')}`, `new_certs_dir = ${dir}`, `serial = ${join(dir, 'serial')}`,
    'default_md = sha256', 'policy = p', 'copy_extensions = copy', 'unique_subject = no', '[p]', 'commonName = supplied', '',
  ].join('\n'));
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key,
    '-out', join(dir, 'req.csr'), '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`], { stdio: 'ignore' });
  const now = Date.now();
  execFileSync('openssl', ['ca', '-batch', '-notext', '-config', join(dir, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', join(dir, 'req.csr'),
    '-startdate', asn1(new Date(now + (opts.fromDays ?? -1) * DAY_MS)), '-enddate', asn1(new Date(now + (opts.toDays ?? 365) * DAY_MS)), '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}
