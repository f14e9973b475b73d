/*
 * The host settings that decide how a Switchyard node holds up under a connection flood (SYN
 * floods, many clients, many upstream connections), with the value we recommend and why. Pure:
 * `hostChecks` takes a reader of /proc/sys-style values, so a unit test needs no host.
 */

/** Reads a sysctl (`net.core.somaxconn`) or `ulimit -n`; undefined when the host does not have it. */
export type HostReader = (name: string) => string | undefined;

export interface HostCheck {
  setting: string;
  current: string;
  recommended: string;
  /** ok, change (worth changing for a public-facing node), or unknown (not on this host). */
  status: 'ok' | 'change' | 'unknown';
  why: string;
}

/** What `doctor` knows of the config, when given one. */
export interface ListenerBacklog { name: string; backlog: number; maxConnections: number }

interface Rule { setting: string; recommended: string; ok: (v: string) => boolean; why: string }

const num = (v: string) => Number(v.trim().split(/\s+/)[0]);
const atLeast = (n: number) => (v: string) => num(v) >= n;

const RULES: Rule[] = [
  { setting: 'net.ipv4.tcp_syncookies', recommended: '1', ok: (v) => num(v) >= 1,
    why: 'SYN cookies answer a SYN flood once the SYN queue is full, instead of dropping real clients\' SYNs' },
  { setting: 'net.ipv4.tcp_max_syn_backlog', recommended: '>= 4096', ok: atLeast(4096),
    why: 'half-open connections the kernel keeps per listener (the SYN queue) before cookies take over' },
  { setting: 'net.core.somaxconn', recommended: '>= 4096', ok: atLeast(4096),
    why: 'caps every listener\'s accept queue (the listen backlog Switchyard asks for is cut to this)' },
  { setting: 'net.ipv4.tcp_synack_retries', recommended: '<= 3', ok: (v) => num(v) <= 3,
    why: 'how often an unanswered SYN-ACK is resent: fewer retries free half-open slots sooner under a flood' },
  { setting: 'net.core.netdev_max_backlog', recommended: '>= 16384', ok: atLeast(16_384),
    why: 'packets queued per CPU between the NIC and the stack; bursts beyond it are dropped' },
  { setting: 'net.ipv4.ip_local_port_range', recommended: '1024 65535', ok: (v) => { const [lo, hi] = v.trim().split(/\s+/).map(Number); return hi - lo >= 28_000; },
    why: 'source ports for upstream connections: a narrow range runs out with many short backend connections' },
  { setting: 'net.ipv4.tcp_tw_reuse', recommended: '1', ok: (v) => num(v) === 1,
    why: 'lets new upstream connections reuse ports in TIME_WAIT (2, the default, does it on loopback only)' },
  { setting: 'net.netfilter.nf_conntrack_max', recommended: '>= 262144 (or no conntrack on the listener ports)', ok: atLeast(262_144),
    why: 'a full connection-tracking table drops new connections, real or not: a flood fills it first' },
  { setting: 'fs.file-max', recommended: '>= 1048576', ok: atLeast(1_048_576),
    why: 'file descriptors of the whole host; every client and upstream connection holds one' },
];

/** The open-files limit we recommend: two descriptors per client connection (client + upstream) plus room. */
const filesFor = (maxConnections: number) => Math.max(65_536, 2 * maxConnections + 1024);

/**
 * Every check against `read`. With the config's listeners, the open-files limit is judged
 * against their connection caps, and each listener's backlog against net.core.somaxconn.
 */
export function hostChecks(read: HostReader, listeners: readonly ListenerBacklog[] = []): HostCheck[] {
  const out: HostCheck[] = RULES.map((r) => {
    const v = read(r.setting);
    if (v === undefined) return { setting: r.setting, current: '–', recommended: r.recommended, status: 'unknown', why: `${r.why} (not on this host)` };
    return { setting: r.setting, current: v.trim().replace(/\s+/g, ' '), recommended: r.recommended, status: r.ok(v) ? 'ok' : 'change', why: r.why };
  });
  const wantFiles = filesFor(listeners.reduce((s, l) => s + l.maxConnections, 0));
  const files = read('ulimit -n');
  out.push({
    setting: 'ulimit -n', current: files ?? '–', recommended: `>= ${wantFiles}`,
    status: files === undefined ? 'unknown' : files === 'unlimited' || num(files) >= wantFiles ? 'ok' : 'change',
    why: 'open files of the Switchyard process (LimitNOFILE= in a systemd unit): two per proxied connection',
  });
  const somaxconn = read('net.core.somaxconn');
  for (const l of listeners) {
    const effective = somaxconn === undefined ? l.backlog : Math.min(l.backlog, num(somaxconn));
    out.push({
      setting: `listener ${l.name} backlog`, current: `${effective}${effective < l.backlog ? ` (asks ${l.backlog}, cut by somaxconn)` : ''}`,
      recommended: `${l.backlog}`, status: effective < l.backlog ? 'change' : 'ok',
      why: 'the accept queue the listener gets: the smaller of its `backlog` and net.core.somaxconn',
    });
  }
  return out;
}
