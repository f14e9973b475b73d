/*
 * BIRD 2 configs for the anycast lab (and a starting point for real nodes): a router that
 * accepts any node of a subnet over dynamic BGP and installs equal paths as one ECMP route, and
 * a node that announces its VIPs from a static protocol Switchyard enables and disables.
 * Pure text generation; every value is checked so a config never carries an injected line.
 */

/** BFD timers (BIRD `min rx/tx interval`, `multiplier`). */
export interface BfdTimers { intervalMs: number; multiplier: number }

/** BGP session timers shared by router and nodes. */
export interface BgpTimers {
  /** BFD on the sessions (undefined: off; BGP hold timer only). */
  bfd?: BfdTimers;
  /** `connect delay time` in s (BIRD default 5). */
  connectDelayS?: number;
  /** `error wait time` min,max in s (BIRD default 60,300: a node that failed once comes back only after a minute). */
  errorWaitS?: [number, number];
  /** `hold time` in s (keepalive = hold/3). */
  holdS?: number;
  /**
   * `connect retry time` in s (BIRD default 120): a connect attempted while the peer was
   * unreachable hangs in SYN back-off; this bounds how long before BIRD tries afresh.
   */
  connectRetryS?: number;
}

export interface RouterBirdOptions extends BgpTimers {
  routerId: string;
  localAs: number;
  /** Nodes' subnet for dynamic BGP, e.g. 10.20.0.0/16. */
  neighborRange: string;
  peerAs: number;
  /** Interface pattern BFD runs on, e.g. "n*". */
  bfdInterfaces: string;
  /** Install the ECMP route in the kernel (`merge paths on`); false leaves the FIB to another agent. */
  kernel?: boolean;
  logFile?: string;
}

export interface NodeBirdOptions extends BgpTimers {
  routerId: string;
  localAddress: string;
  localAs: number;
  neighbor: string;
  peerAs: number;
  /** Interface towards the router (BFD). */
  iface: string;
  /** Prefixes the static protocol holds (IPv4 /32). */
  vips: string[];
  /** Static protocol name (in Switchyard's `anycast.bird.protocols`). */
  protocol?: string;
  logFile?: string;
}

const IPV4 = /^(\d{1,3}\.){3}\d{1,3}$/;
const check = (ok: boolean, what: string, v: unknown) => { if (!ok) throw new Error(`bird config: bad ${what}: ${String(v)}`); };
const ipv4 = (v: string, what: string) => check(IPV4.test(v), what, v);
const word = (v: string, what: string) => check(/^[A-Za-z0-9_*.-]+$/.test(v), what, v);
const path = (v: string, what: string) => check(/^[A-Za-z0-9_./-]+$/.test(v), what, v);
const int = (v: number, what: string) => check(Number.isInteger(v) && v >= 0 && v < 2 ** 32, what, v);

function bfdBlock(iface: string, t: BfdTimers | undefined): string {
  if (t === undefined) return '';
  int(t.intervalMs, 'BFD interval');
  int(t.multiplier, 'BFD multiplier');
  return `protocol bfd {\n  interface "${iface}" { min rx interval ${t.intervalMs} ms; min tx interval ${t.intervalMs} ms; multiplier ${t.multiplier}; };\n}\n`;
}

function sessionOptions(t: BgpTimers): string {
  const lines: string[] = [];
  if (t.bfd !== undefined) lines.push('  bfd on;');
  if (t.holdS !== undefined) { int(t.holdS, 'hold time'); lines.push(`  hold time ${t.holdS}; keepalive time ${Math.max(1, Math.floor(t.holdS / 3))};`); }
  if (t.connectRetryS !== undefined) { int(t.connectRetryS, 'connect retry'); lines.push(`  connect retry time ${t.connectRetryS};`); }
  if (t.connectDelayS !== undefined) { int(t.connectDelayS, 'connect delay'); lines.push(`  connect delay time ${t.connectDelayS};`); }
  if (t.errorWaitS !== undefined) { t.errorWaitS.forEach((v) => int(v, 'error wait')); lines.push(`  error wait time ${t.errorWaitS[0]},${t.errorWaitS[1]};`); }
  return lines.join('\n');
}

function header(routerId: string, logFile: string | undefined): string {
  ipv4(routerId, 'router id');
  if (logFile !== undefined) path(logFile, 'log file');
  return `${logFile !== undefined ? `log "${logFile}" all;\n` : ''}router id ${routerId};\nprotocol device { scan time 2; }\n`;
}

/** The lab router: dynamic BGP from `neighborRange`, BFD on `bfdInterfaces`, equal paths merged into one ECMP route. */
export function routerBirdConfig(o: RouterBirdOptions): string {
  check(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/.test(o.neighborRange), 'neighbor range', o.neighborRange);
  int(o.localAs, 'local AS'); int(o.peerAs, 'peer AS'); word(o.bfdInterfaces, 'BFD interfaces');
  const kernel = o.kernel === false ? ''
    : 'protocol kernel {\n  ipv4 { import none; export all; };\n  merge paths on;  # equal BGP paths -> one multipath route\n}\n';
  return `${header(o.routerId, o.logFile)}${kernel}${bfdBlock(o.bfdInterfaces, o.bfd)}`
    + `protocol bgp nodes {\n  local as ${o.localAs};\n  neighbor range ${o.neighborRange} as ${o.peerAs};\n  dynamic name "node";\n`
    + `  ipv4 { import all; export none; };\n${sessionOptions(o)}\n}\n`;
}

/** A node: its VIPs in a static protocol that starts disabled (Switchyard enables it when ready), exported to the router. */
export function nodeBirdConfig(o: NodeBirdOptions): string {
  ipv4(o.localAddress, 'local address'); ipv4(o.neighbor, 'neighbor'); word(o.iface, 'interface');
  int(o.localAs, 'local AS'); int(o.peerAs, 'peer AS');
  const protocol = o.protocol ?? 'vip';
  check(/^[A-Za-z_][A-Za-z0-9_]*$/.test(protocol), 'protocol name', protocol);
  const routes = o.vips.map((v) => { check(/^(\d{1,3}\.){3}\d{1,3}\/32$/.test(v), 'VIP', v); return `  route ${v} blackhole;`; }).join('\n');
  return `${header(o.routerId, o.logFile)}`
    + `# Announced only while Switchyard says the node is ready ("enable ${protocol}"); no kernel protocol: never installed here.\n`
    + `protocol static ${protocol} {\n  disabled;\n  ipv4;\n${routes}\n}\n${bfdBlock(o.iface, o.bfd)}`
    + `protocol bgp up {\n  local ${o.localAddress} as ${o.localAs};\n  neighbor ${o.neighbor} as ${o.peerAs};\n`
    + `  ipv4 { import none; export where proto = "${protocol}"; };\n${sessionOptions(o)}\n}\n`;
}
