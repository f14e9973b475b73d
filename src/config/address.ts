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
