import { isIP } from 'node:net';

/*
 * Pure decision logic of the route agent (no I/O): what nexthops BIRD's route has, what resilient
 * nexthop group the agent has installed, and the `ip -batch` lines that turn the one into the other.
 *
 * Why a resilient group: a plain Linux multipath route is hash-threshold, so any change in the number
 * of nexthops re-slices the whole hash space (3→5 moves ~73% of flows, a withdrawal moves ~18% of the
 * flows of nodes that did not change). A resilient group maps the hash to a fixed table of buckets;
 * a change only reassigns the buckets of a removed nexthop, or the fewest buckets needed to give a new
 * nexthop its share — the flows of the other nodes stay where they are.
 */

/** One path of the VIP route: a gateway reached over a device. */
export interface Nexthop {
  gateway: string;
  dev: string;
}

/** What the agent has installed: member nexthop object ids by `gateway@dev`, and whether the group exists. */
export interface GroupState {
  members: Map<string, number>;
}

/** Fixed settings of one agent: its id range, the group shape and the route it owns. */
export interface GroupSpec {
  prefix: string;
  /** Id of the group; members take ids groupId+1 .. groupId+maxMembers. */
  groupId: number;
  maxMembers: number;
  buckets: number;
  /** Seconds a bucket must be idle before it may move to a new nexthop (0: buckets move at once). */
  idleTimer: number;
  /** Seconds the group may stay unbalanced before busy buckets move too (0: no limit). */
  unbalancedTimer: number;
  /** Metric of the agent's route: lower than BIRD's, so it wins while it exists and BIRD's is the fallback. */
  metric: number;
  /** Routing protocol number the agent's route carries, so it can be told apart from BIRD's. */
  proto: number;
}

/** A plan: the batch lines to run, in order, and the state they leave. */
export interface Plan {
  commands: string[];
  next: GroupState;
}

/** Linux interface names: up to 15 characters, none of them space, '/' or ':'; we also refuse '#' and ';'. */
const DEV_NAME = /^[A-Za-z0-9_.@+-]{1,15}$/;

export const keyOf = (n: Nexthop): string => `${n.gateway}@${n.dev}`;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * The nexthops of the BIRD route for `prefix` in `ip -json route show` output: routes whose protocol is
 * `proto` (default "bird"), multipath (`nexthops`) or single path (`gateway`), without dead/linkdown
 * paths and paths whose gateway or device name is malformed. Returns them sorted by key, deduplicated; [] when there is no such route. Throws on non-JSON.
 */
export function birdNexthops(json: string, prefix: string, proto = 'bird'): Nexthop[] {
  const dst = prefix.replace(/\/(32|128)$/, '');
  const routes: unknown = JSON.parse(json);
  if (!Array.isArray(routes)) throw new Error('ip -json route: expected an array');
  const out = new Map<string, Nexthop>();
  const usable = (p: Record<string, unknown>): boolean => {
    const flags = Array.isArray(p.flags) ? p.flags : [];
    // only well-formed values reach an `ip -batch` line (no spaces, newlines or comment marks)
    return typeof p.gateway === 'string' && isIP(p.gateway) !== 0 && typeof p.dev === 'string' && DEV_NAME.test(p.dev) &&
      !flags.includes('dead') && !flags.includes('linkdown');
  };
  for (const r of routes) {
    if (!isObject(r) || (r.dst !== dst && r.dst !== prefix) || r.protocol !== proto || 'nhid' in r) continue;
    const paths = Array.isArray(r.nexthops) ? r.nexthops.filter(isObject) : [r];
    for (const p of paths) {
      if (usable(p)) out.set(keyOf(p as unknown as Nexthop), { gateway: p.gateway as string, dev: p.dev as string });
    }
  }
  return [...out.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

/**
 * The agent's own state as left in the kernel (`ip -json nexthop show`): the members of group
 * `spec.groupId` that lie in its id range. Lets a restarted agent carry on without rebuilding the
 * group (a rebuild would reshuffle every bucket). Members whose id is outside the range are ignored.
 */
export function installedState(json: string, spec: GroupSpec): GroupState {
  const all: unknown = JSON.parse(json);
  if (!Array.isArray(all)) throw new Error('ip -json nexthop: expected an array');
  const byId = new Map<number, Record<string, unknown>>();
  for (const n of all) if (isObject(n) && typeof n.id === 'number') byId.set(n.id, n);
  const members = new Map<string, number>();
  const group = byId.get(spec.groupId);
  if (group === undefined || !Array.isArray(group.group)) return { members };
  for (const g of group.group) {
    const id = isObject(g) ? g.id : undefined;
    if (typeof id !== 'number' || id <= spec.groupId || id > spec.groupId + spec.maxMembers) continue;
    const m = byId.get(id);
    if (m !== undefined && typeof m.gateway === 'string' && typeof m.dev === 'string') members.set(keyOf(m as unknown as Nexthop), id);
  }
  return { members };
}

function groupLine(verb: 'add' | 'replace', spec: GroupSpec, ids: number[]): string {
  return `nexthop ${verb} id ${spec.groupId} group ${ids.join('/')} type resilient buckets ${spec.buckets}` +
    ` idle_timer ${spec.idleTimer} unbalanced_timer ${spec.unbalancedTimer}`;
}

function routeLine(verb: 'replace' | 'del', spec: GroupSpec): string {
  return verb === 'replace'
    ? `route replace ${spec.prefix} nhid ${spec.groupId} metric ${spec.metric} proto ${spec.proto}`
    : `route del ${spec.prefix} metric ${spec.metric} proto ${spec.proto}`;
}

/**
 * The commands that take the kernel from `current` to a resilient group of exactly `desired`, and the
 * resulting state. Order matters and is chosen so that no packet meets a missing object: new members
 * are created before the group names them; removed members leave the group before they are deleted;
 * an empty set removes the route first (BIRD's fallback route, if any, then has nothing left either).
 * The route line is repeated on every change: it is idempotent and repairs a route someone deleted.
 * Kept members keep their ids, so `nexthop replace` on the group moves only the buckets it must.
 * Throws if `desired` has more nexthops than the id range holds.
 */
export function planGroup(current: GroupState, desired: readonly Nexthop[], spec: GroupSpec): Plan {
  if (desired.length > spec.maxMembers) throw new Error(`${desired.length} nexthops exceed the agent's ${spec.maxMembers} member ids`);
  const want = new Map(desired.map((n) => [keyOf(n), n]));
  const members = new Map<string, number>();
  const removed: number[] = [];
  for (const [k, id] of current.members) (want.has(k) ? members.set(k, id) : removed.push(id));
  const adds: string[] = [];
  const used = new Set(members.values());
  let free = spec.groupId + 1;
  for (const [k, n] of want) {
    if (members.has(k)) continue;
    while (used.has(free) || removed.includes(free)) free++;
    members.set(k, free);
    used.add(free);
    adds.push(`nexthop replace id ${free} via ${n.gateway} dev ${n.dev}`);
  }
  const next: GroupState = { members };
  const existed = current.members.size > 0;
  if (members.size === 0) {
    if (!existed) return { commands: [], next };
    return { commands: [routeLine('del', spec), `nexthop del id ${spec.groupId}`, ...removed.map((id) => `nexthop del id ${id}`)], next };
  }
  if (adds.length === 0 && removed.length === 0) return { commands: [], next };
  const ids = [...members.values()].sort((a, b) => a - b);
  return {
    commands: [...adds, groupLine(existed ? 'replace' : 'add', spec, ids), routeLine('replace', spec), ...removed.map((id) => `nexthop del id ${id}`)],
    next,
  };
}

/** Whether `ip -json route show` output holds the agent's route for `spec` (its prefix, pointing at its group). */
export function agentRouteInstalled(json: string, spec: GroupSpec): boolean {
  const dst = spec.prefix.replace(/\/(32|128)$/, '');
  const routes: unknown = JSON.parse(json);
  return Array.isArray(routes) && routes.some((r) => isObject(r) && (r.dst === dst || r.dst === spec.prefix) && r.nhid === spec.groupId);
}

/** The idempotent line that (re)points the agent's route at its group, for when the group is right but the route is gone. */
export function routeCommand(spec: GroupSpec): string {
  return routeLine('replace', spec);
}

/**
 * Whether an `ip monitor route nexthop` chunk may change what the agent installs: a line about one of
 * the prefixes (added, replaced or `Deleted`) or about a nexthop object (`id N ...`). Routes of a full
 * table churn all day; they must not each cost a pass.
 */
export function concernsAgent(events: string, specs: readonly GroupSpec[]): boolean {
  const addrs = specs.map((s) => s.prefix.replace(/\/(32|128)$/, ''));
  return events.split('\n').some((line) => {
    const l = line.replace(/^\[[^\]]*\]\s*/, '').replace(/^Deleted /, '');
    return /^id \d+ /.test(l) || addrs.some((a) => l.startsWith(`${a} `));
  });
}

/** The commands that remove everything the agent installed (on a clean exit: BIRD's own route takes over). */
export function teardown(current: GroupState, spec: GroupSpec): string[] {
  return planGroup(current, [], spec).commands;
}
