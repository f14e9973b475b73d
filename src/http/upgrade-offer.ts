/*
 * Which `Upgrade` requests may become tunnels (RFC 9110 §7.8). A request is a candidate only when
 * it is unambiguous about it: GET, no body, one `Upgrade` header listing valid protocol tokens and
 * `Connection: upgrade`. Every other request carrying `Upgrade` is served as a plain HTTP request
 * with the upgrade headers stripped, as Envoy does for `h2c` (its HTTP/1 codec, issue #7161) and
 * nginx does for every upgrade it is not configured for: the connection stays in HTTP/1.1 framing.
 */

/** protocol-name ["/" protocol-version], both tokens (RFC 9110 §7.8). */
const PROTOCOL = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?$/;

/** Lower-cased protocol name of `name/version`. */
export function protocolName(p: string): string {
  const slash = p.indexOf('/');
  return (slash === -1 ? p : p.slice(0, slash)).toLowerCase();
}

function tokens(value: string): string[] {
  return value.split(',').map((t) => t.trim()).filter((t) => t !== '');
}

/**
 * The protocols a request offers to switch to, or undefined when it is not a clean upgrade
 * candidate (see the module comment). `rawHeaders` is Node's flat [name, value, ...] list.
 */
export function upgradeOffer(method: string, rawHeaders: readonly string[]): string[] | undefined {
  if (method !== 'GET') return undefined;
  let upgrade: string | undefined;
  let upgrades = 0;
  let connectionUpgrade = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    const value = rawHeaders[i + 1];
    if (name === 'upgrade') { upgrade = value; upgrades++; } else if (name === 'connection') {
      if (tokens(value).some((t) => t.toLowerCase() === 'upgrade')) connectionUpgrade = true;
    } else if (name === 'transfer-encoding') return undefined;
    else if (name === 'content-length' && value.trim() !== '0') return undefined;
  }
  if (upgrades !== 1 || !connectionUpgrade) return undefined;
  const offered = tokens(upgrade!);
  if (offered.length === 0 || !offered.every((p) => PROTOCOL.test(p))) return undefined;
  return offered;
}

/** The offered protocols a route allows (original spelling, client's order); `h2c` never. */
export function allowedOffer(offered: readonly string[], allowed: ReadonlySet<string>): string[] {
  return offered.filter((p) => { const n = protocolName(p); return n !== 'h2c' && allowed.has(n); });
}

/**
 * Whether a backend's `101` switches to one of the protocols that were forwarded: its `Upgrade`
 * header names exactly one protocol, and that protocol's name was offered.
 */
export function switchMatches(forwarded: readonly string[], responseUpgrade: string | undefined): boolean {
  if (responseUpgrade === undefined) return false;
  const chosen = tokens(responseUpgrade);
  if (chosen.length !== 1 || !PROTOCOL.test(chosen[0])) return false;
  const name = protocolName(chosen[0]);
  return forwarded.some((p) => protocolName(p) === name);
}

/**
 * A request's raw headers without its upgrade: `Upgrade` and `HTTP2-Settings` dropped and the
 * `upgrade` / `http2-settings` tokens removed from `Connection` (the header goes when nothing
 * else is left), so the request is read again as a plain HTTP/1.1 request.
 */
export function withoutUpgrade(rawHeaders: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (name === 'upgrade' || name === 'http2-settings') continue;
    if (name === 'connection') {
      const kept = tokens(rawHeaders[i + 1]).filter((t) => { const l = t.toLowerCase(); return l !== 'upgrade' && l !== 'http2-settings'; });
      if (kept.length > 0) out.push(rawHeaders[i], kept.join(', '));
      continue;
    }
    out.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return out;
}
