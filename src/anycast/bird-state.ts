import type { BirdReply } from './bird-client.js';

/*
 * What the fleet view shows of BIRD, parsed from `show protocols all` and `show bfd sessions`.
 * Only the fields an operator needs to see why a VIP is or is not reaching the routers.
 */

/** One protocol row (`show protocols`), with BGP's session state and neighbor when it is BGP. */
export interface BirdProtocol { name: string; proto: string; state: string; info: string; bgpState?: string; neighbor?: string }

/** One BFD session (`show bfd sessions`). */
export interface BfdSession { address: string; iface: string; state: string }

/** Protocol rows of a `show protocols [all]` reply; details (code 1006) are attached to the row above. */
export function parseProtocols(reply: BirdReply): BirdProtocol[] {
  const header = reply.lines.find((l) => l.code === 2002)?.text ?? '';
  const col = (name: string) => header.indexOf(name);
  const [proto, table, state, since, info] = ['Proto', 'Table', 'State', 'Since', 'Info'].map(col);
  const out: BirdProtocol[] = [];
  for (const l of reply.lines) {
    if (l.code === 1002 && proto > 0) {
      const t = l.text;
      out.push({
        name: t.slice(0, proto).trim(), proto: t.slice(proto, table).trim(), state: t.slice(state, since).trim(),
        info: info > 0 ? t.slice(info).trim() : '',
      });
      continue;
    }
    const last = out[out.length - 1];
    if (l.code !== 1006 || last === undefined) continue;
    const m = /^\s*(BGP state|Neighbor address):\s*(\S+)/.exec(l.text);
    if (m?.[1] === 'BGP state') last.bgpState = m[2];
    else if (m?.[1] === 'Neighbor address') last.neighbor = m[2];
  }
  return out;
}

/** Session rows of a `show bfd sessions` reply (every BFD protocol's). */
export function parseBfdSessions(reply: BirdReply): BfdSession[] {
  const out: BfdSession[] = [];
  for (const l of reply.lines) {
    const t = l.text.trim().split(/\s+/);
    // Rows start with an address; the header starts with "IP", protocol names end with ':'.
    if (t.length >= 3 && /^[0-9a-f:.]+$/i.test(t[0]) && /[.:]/.test(t[0])) out.push({ address: t[0], iface: t[1], state: t[2] });
  }
  return out;
}
