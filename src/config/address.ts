/** A parsed `host:port` (IPv6 hosts in brackets: `[::1]:8080`). */
export interface HostPort { host: string; port: number }

/** Parses `host:port`; returns undefined when malformed or the port is outside 1..65535 (0 allowed when `allowZero`). */
export function parseHostPort(text: string, allowZero = false): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.\-_]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535 || (port === 0 && !allowZero)) return undefined;
  return { host: m[1] ?? m[2], port };
}

/** IPv4 text as inet_aton (and so getaddrinfo, and so `listen`) reads it: `127.1`, `0x7f.0.0.1`, `017.1` included. */
function inetAton(host: string): string | undefined {
  const parts = host.split('.');
  if (parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    const n = /^0x[0-9a-f]+$/i.test(p) ? parseInt(p.slice(2), 16) : /^0[0-7]*$/.test(p) ? parseInt(p, 8) : /^[1-9]\d*$/.test(p) ? Number(p) : NaN;
    if (!Number.isSafeInteger(n)) return undefined;
    nums.push(n);
  }
  // a.b.c.d; the last part fills the bytes the others left: a.b.c (16 bits), a.b (24), a (32).
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return undefined;
  let value = last;
  nums.forEach((n, i) => { value += n * 2 ** (8 * (3 - i)); });
  return [24, 16, 8, 0].map((s) => Math.floor(value / 2 ** s) % 256).join('.');
}

/**
 * The form a host is compared in: IPv4 as a dotted quad (`127.1` → `127.0.0.1`), IPv6
 * compressed in lower case with IPv4-mapped addresses as IPv4 (`::ffff:127.0.0.1` → `127.0.0.1`),
 * names in lower case (not resolved: validation does not depend on DNS).
 */
export function canonicalHost(host: string): string {
  if (host.includes(':')) {
    let v6: string;
    try { v6 = new URL(`http://[${host}]/`).hostname.slice(1, -1); } catch { return host.toLowerCase(); }
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(v6);
    return mapped ? inetAton(String(parseInt(mapped[1], 16) * 65536 + parseInt(mapped[2], 16)))! : v6;
  }
  return inetAton(host) ?? host.toLowerCase();
}

/** Addresses a host stands for when binding: `localhost` is loopback on both families. */
function bindTargets(host: string): string[] {
  const h = canonicalHost(host);
  return h === 'localhost' ? ['127.0.0.1', '::1'] : [h];
}

const isIPv4 = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h);

/**
 * Why two listen addresses cannot both be bound, or undefined when they can: the same address
 * written two ways (`127.0.0.1:80`, `127.1:80`, `[::ffff:127.0.0.1]:80`), or a wildcard holding
 * the port (`0.0.0.0:80` every IPv4 address; `[::]:80`, dual-stack, every address). Port 0 never
 * conflicts (each bind gets its own port).
 */
export function bindConflict(a: HostPort, b: HostPort): string | undefined {
  if (a.port !== b.port || a.port === 0) return undefined;
  const ta = bindTargets(a.host);
  const tb = bindTargets(b.host);
  if (ta.some((x) => tb.includes(x))) return 'the same address';
  const all = [...ta, ...tb];
  if (all.includes('::')) return 'a [::] listener takes the port on every address';
  const other = ta.includes('0.0.0.0') ? tb : tb.includes('0.0.0.0') ? ta : undefined;
  if (other !== undefined && other.some((h) => isIPv4(h) || !h.includes(':'))) return 'a 0.0.0.0 listener takes the port on every IPv4 address';
  return undefined;
}

/** A listen address and what it belongs to, e.g. `listeners[1]` or `the admin listener`. */
export interface ListenAddress { where: string; address: string }

/** Every address of `list` that cannot be bound next to an earlier one: its index and why. Malformed addresses are skipped. */
export function bindConflicts(list: readonly ListenAddress[]): { index: number; message: string }[] {
  const bound: (ListenAddress & { at: HostPort })[] = [];
  const out: { index: number; message: string }[] = [];
  list.forEach((e, index) => {
    const at = parseHostPort(e.address, true);
    if (at === undefined) return;
    for (const b of bound) {
      const why = bindConflict(at, b.at);
      if (why !== undefined) out.push({ index, message: `address ${e.address} conflicts with ${b.where} ${b.address} (${why})` });
    }
    bound.push({ ...e, at });
  });
  return out;
}
