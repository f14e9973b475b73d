import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from './resilience-schema.js';

/*
 * The `anycast` block: this node announces the fleet's VIP over BGP through its local BIRD 2
 * while it is ready (see docs/anycast.md). Switchyard does not write BIRD's config: BIRD holds
 * the VIP routes in one static protocol (start it `disabled;`) and Switchyard enables or
 * disables that protocol through BIRD's control socket. BGP peers, BFD timers and export
 * policy stay in BIRD's config, owned by whoever runs the routers.
 */

/** `198.51.100.10/32`, `2001:db8::10/128`, or a bare address (taken as a host prefix). */
export const vipPrefix = z.string().transform((s, ctx) => {
  const [addr, len, ...rest] = s.trim().split('/');
  const family = isIP(addr);
  const want = family === 6 ? '128' : '32';
  if (family === 0 || rest.length > 0 || (len !== undefined && len !== want)) {
    ctx.addIssue({ code: 'custom', message: `expected an IPv4 /32 or IPv6 /128 (e.g. 198.51.100.10/32), got "${s}"` });
    return z.NEVER;
  }
  return `${addr.toLowerCase()}/${want}`;
});

export const AnycastSchema = z.strictObject({
  vips: z.array(vipPrefix).min(1)
    .describe('the anycast prefixes this node announces (IPv4 /32, IPv6 /128); they must be on a local interface (e.g. lo) and be the routes of `bird.protocols`'),
  bird: z.strictObject({
    socket: z.string().min(1).default('/run/bird/bird.ctl').describe('BIRD\'s control socket (bird -s)'),
    protocols: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a BIRD protocol name')).min(1).max(16).default(['vip'])
      .describe('the static protocols holding the VIP routes (one per address family, e.g. [vip4, vip6]): enabled = announced, disabled = withdrawn (start them `disabled;`)'),
    timeout: duration('2s', '30s').describe('longest wait for one BIRD command; a BIRD that does not answer counts as an error and is retried'),
  }).prefault({}),
  policy: z.array(z.strictObject({
    service: z.string().min(1),
    minHealthy: z.number().gt(0).max(1).default(0.5)
      .describe('least share of the service\'s backends that must be healthy (and not draining) for the node to be ready'),
  })).default([]).describe('services this node must be able to serve; empty: readiness is config loaded + listeners bound + not draining'),
  holdDown: duration('5s', '10m', 'off')
    .describe('flap damping: a node announces only after it has been ready this long without a break (withdrawal is immediate)'),
  goAwayBeforeWithdraw: duration('1s', '5m', 'off')
    .describe('on drain, how long clients are told to go (Connection: close, GOAWAY; listeners still accept) before the withdrawal: a router that hashes flows without state moves every established flow of a withdrawn node, so they should be gone first (0 = withdraw first)'),
  withdrawWait: duration('1s', '5m', 'off')
    .describe('on drain, how long to keep serving after the withdrawal before clients are told to go (time for routers to move new flows; ≥ 2× BFD detection)'),
  pollInterval: duration('1s', '1m')
    .describe('how often BIRD is asked for the protocol, BGP and BFD state (the fleet view) and the announcement is re-asserted (e.g. after BIRD restarts)'),
}).describe('announce an anycast VIP over BGP through the local BIRD 2 while this node is ready (docs/anycast.md)');

/** The validated block: durations in milliseconds. */
export type AnycastConfig = z.output<typeof AnycastSchema>;
/** One entry of `anycast.policy`. */
export type ReadinessPolicy = AnycastConfig['policy'];
