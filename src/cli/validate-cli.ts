import { loadConfigFile, parseConfigText, validateConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { checkCertificates } from '../tls/cert-check.js';
import { unbindable } from '../net/bind-check.js';
import { EtcdConfigStore, StoreError } from '../store/config-store.js';
import { ConfigError } from '../util/errors.js';
import { EXIT } from './exit-codes.js';

/*
 * `switchyard validate`: everything that would make `start` (or a reload) fail, found before.
 * Errors are `path: reason` lines on stderr; warnings (a certificate ending within 30 days, a
 * route host no certificate covers) are printed and do not fail. Exit codes: exit-codes.ts.
 */

async function fromStore(url: string): Promise<{ config: Config; name: string }> {
  const store = EtcdConfigStore.fromUrl(url);
  try {
    const rec = await store.current();
    if (rec === null) throw new StoreError('SWY_STORE_NOT_FOUND', `nothing has been pushed to ${url} yet`);
    const name = `${url} v${rec.version}`;
    return { config: validateConfig(parseConfigText(rec.text, name), name), name };
  } finally {
    await store.close();
  }
}

/** Runs the checks and exits with the code of the first kind of failure (invalid config before busy port). */
export async function validateCommand(o: { config?: string; store?: string; checkPorts: boolean; files: boolean }): Promise<void> {
  let loaded: { config: Config; name: string };
  try {
    loaded = o.config !== undefined ? { config: await loadConfigFile(o.config), name: o.config } : await fromStore(o.store!);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e; // store unreachable: its own message and exit code
    for (const line of e.errors) process.stderr.write(`${line}\n`);
    process.exit(EXIT.failed);
  }
  const { config: c, name } = loaded;
  const findings = o.files ? checkCertificates(c) : [];
  for (const f of findings) process.stderr.write(`${f.severity === 'warning' ? 'warning: ' : ''}${f.path}: ${f.message}\n`);
  if (findings.some((f) => f.severity === 'error')) process.exit(EXIT.failed);
  if (o.checkPorts) {
    const busy = await unbindable(c);
    for (const b of busy) process.stderr.write(`${b.code}: ${b.message}\n`);
    if (busy.length > 0) process.exit(EXIT.bind);
  }
  const certs = c.listeners.reduce((n, l) => n + (l.tls?.certificates.length ?? 0), 0);
  process.stdout.write(`${name}: ok (${c.listeners.length} listeners, ${c.routes.length} routes, ${Object.keys(c.services).length} services${certs > 0 ? `, ${certs} certificates` : ''}${o.checkPorts ? ', ports free' : ''})\n`);
}
