import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { dirname, basename, resolve } from 'node:path';

/** A certificate/key pair as configured (file paths). */
export interface CertFiles { cert: string; key: string }

/** TLS settings of an https listener. */
export interface TlsSettings {
  certificates: readonly CertFiles[];
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  ciphers?: string;
  /** Same on every node, so sessions resume across the fleet (see tls-front.ts). */
  sessionIdContext?: string;
}

interface Loaded { names: string[]; context: SecureContext }

/** Host names a certificate covers: its DNS subjectAltNames, else its CN (lower-case). */
export function certificateNames(pem: Buffer): string[] {
  const x = new X509Certificate(pem);
  const san = x.subjectAltName;
  if (san !== undefined) {
    const names = san.split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
    if (names.length > 0) return names;
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(x.subject)?.[1];
  return cn === undefined ? [] : [cn.toLowerCase()];
}

/** Reads and parses every certificate/key pair of `s`; throws on the first that cannot be used. */
export function loadCertificates(s: TlsSettings): Loaded[] {
  return s.certificates.map((c) => {
    const cert = readFileSync(c.cert);
    const key = readFileSync(c.key);
    const context = createSecureContext({ cert, key, minVersion: s.minVersion, ciphers: s.ciphers, sessionIdContext: s.sessionIdContext });
    return { names: certificateNames(cert), context };
  });
}

/**
 * The certificates of one https listener, chosen by SNI: an exact name match first, then a
 * wildcard (`*.example.com` covers one label, as browsers do), else the first certificate (the
 * default). Files are read at start and again when they change on disk (debounced); a broken
 * replacement is reported and the previous certificates stay in use, so a bad deploy of a
 * certificate cannot take the listener down.
 */
export class CertificateStore {
  private loaded: Loaded[] = [];
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private settings: TlsSettings, private readonly onReloadError: (err: Error) => void = () => undefined,
    /** Called after every successful reload (e.g. to replace the server's default context). */
    private readonly onReloaded: (s: TlsSettings) => void = () => undefined) {
    this.loaded = this.load(settings); // throws on the first load: the config is unusable
  }

  private load(s: TlsSettings): Loaded[] {
    return loadCertificates(s);
  }

  /** The context for a server name (SNICallback); never undefined while one certificate is loaded. */
  contextFor(serverName: string | undefined): SecureContext {
    const name = serverName?.toLowerCase();
    if (name !== undefined) {
      for (const l of this.loaded) if (l.names.includes(name)) return l.context;
      const dot = name.indexOf('.');
      if (dot > 0) {
        const wildcard = `*${name.slice(dot)}`;
        for (const l of this.loaded) if (l.names.includes(wildcard)) return l.context;
      }
    }
    return this.loaded[0].context;
  }

  /** Applies new settings (config reload); keeps the old certificates if the new ones fail to load. */
  update(s: TlsSettings): void {
    try {
      this.loaded = this.load(s);
      this.settings = s;
      this.watch();
      this.onReloaded(s);
    } catch (e) {
      this.onReloadError(e as Error);
    }
  }

  /** Reloads the files when they change on disk (directories are watched: deploys replace files). */
  watch(): void {
    this.unwatch();
    const dirs = new Map<string, Set<string>>();
    for (const c of this.settings.certificates) {
      for (const f of [c.cert, c.key]) {
        const d = dirname(resolve(f));
        if (!dirs.has(d)) dirs.set(d, new Set());
        dirs.get(d)!.add(basename(f));
      }
    }
    for (const [dir, files] of dirs) {
      const w = watch(dir, { persistent: false }, (_e, name) => {
        if (name !== null && !files.has(name)) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.update(this.settings), 200);
      });
      w.on('error', () => undefined);
      this.watchers.push(w);
    }
  }

  unwatch(): void {
    clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }
}
