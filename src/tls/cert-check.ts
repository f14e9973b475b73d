import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { certificateNames } from './certificates.js';

/*
 * What `switchyard validate` checks of the certificates an https listener names, beyond the
 * schema: the files load, each key belongs to its certificate, the certificate is valid now
 * (and says so when it ends within WARN_DAYS), and every host a route serves on the listener is
 * covered by one of its certificates (else clients get the default one and a name mismatch).
 */

export interface CertFinding {
  /** `listeners[0].tls.certificates[1].cert`, or the route's host for SNI coverage. */
  path: string;
  severity: 'error' | 'warning';
  message: string;
}

/** Days before expiry from which validate warns. */
export const WARN_DAYS = 30;
const DAY_MS = 86_400_000;

function readPem(file: string): Buffer | string {
  try { return readFileSync(file); } catch (e) { return `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`; }
}

/** Whether a certificate name (`a.example.com`, `*.example.com`) covers a route host (exact, or `*.x` for the same wildcard). */
export function nameCovers(certName: string, host: string): boolean {
  const h = host.toLowerCase();
  if (certName === h) return true;
  const dot = h.indexOf('.');
  return !h.startsWith('*.') && certName.startsWith('*.') && dot > 0 && certName.slice(1) === h.slice(dot);
}

/** Problems of one certificate/key pair: `undefined` names when the certificate could not be read. */
function checkPair(at: string, files: { cert: string; key: string }, now: number, out: CertFinding[]): string[] | undefined {
  const certPem = readPem(files.cert);
  const keyPem = readPem(files.key);
  if (typeof certPem === 'string') out.push({ path: `${at}.cert`, severity: 'error', message: certPem });
  if (typeof keyPem === 'string') out.push({ path: `${at}.key`, severity: 'error', message: keyPem });
  let x: X509Certificate | undefined;
  if (typeof certPem !== 'string') {
    try { x = new X509Certificate(certPem); } catch { out.push({ path: `${at}.cert`, severity: 'error', message: `${files.cert} is not a PEM certificate` }); }
  }
  let key: KeyObject | undefined;
  if (typeof keyPem !== 'string') {
    try { key = createPrivateKey(keyPem); } catch (e) {
      out.push({ path: `${at}.key`, severity: 'error', message: `${files.key} is not a usable PEM private key (${/passphrase/i.test((e as Error).message) ? 'encrypted keys are not supported' : 'cannot parse it'})` });
    }
  }
  if (x === undefined) return undefined;
  if (key !== undefined && !x.checkPrivateKey(key)) out.push({ path: `${at}.key`, severity: 'error', message: `${files.key} is not the key of ${files.cert} (they do not match)` });
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  if (to < now) out.push({ path: `${at}.cert`, severity: 'error', message: `${files.cert} expired on ${new Date(to).toISOString()}` });
  else if (from > now) out.push({ path: `${at}.cert`, severity: 'error', message: `${files.cert} is not valid before ${new Date(from).toISOString()}` });
  else if (to - now < WARN_DAYS * DAY_MS) out.push({ path: `${at}.cert`, severity: 'warning', message: `${files.cert} expires in ${Math.floor((to - now) / DAY_MS)} days (${new Date(to).toISOString()})` });
  return certificateNames(certPem as Buffer);
}

/** Loads every certificate and key of `c`'s https listeners and reports what would fail or bite later (`now`: ms since epoch). */
export function checkCertificates(c: Config, now = Date.now()): CertFinding[] {
  const out: CertFinding[] = [];
  c.listeners.forEach((l, i) => {
    if (l.protocol !== 'https' || l.tls === undefined) return;
    const names: string[] = [];
    let complete = true;
    l.tls.certificates.forEach((files, j) => {
      const n = checkPair(`listeners[${i}].tls.certificates[${j}]`, files, now, out);
      if (n === undefined) complete = false; else names.push(...n);
    });
    if (!complete) return; // coverage is unknown with a certificate missing
    c.routes.forEach((r, k) => {
      if (r.listeners !== undefined && !r.listeners.includes(l.name)) return;
      const hosts = r.match.host === undefined ? [] : Array.isArray(r.match.host) ? r.match.host : [r.match.host];
      hosts.forEach((h, m) => {
        if (names.some((n) => nameCovers(n, h))) return;
        const where = Array.isArray(r.match.host) ? `routes[${k}].match.host[${m}]` : `routes[${k}].match.host`;
        out.push({ path: where, severity: 'warning', message: `"${h}" is served on https listener ${l.name} but no certificate there covers it (clients get the default certificate: ${names[0] ?? 'none'})` });
      });
    });
  });
  return out;
}
