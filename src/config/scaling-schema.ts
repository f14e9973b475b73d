import { z } from 'zod';
import { duration } from './resilience-schema.js';
import { argv, headers, secret, webhookUrl } from './secrets.js';

/*
 * The `autoscaling` config block. Defaults are the design's "Auto-Scaling Triggers" table
 * (scalability-and-reliability.md); where the table gives no duration (connections, latency) the
 * CPU and memory rows' 5 min / 15 min are used. Off by default: scaling the fleet is the operator's
 * decision to make.
 */

const percent = (def: number) => z.number().min(0).max(100).default(def);

/** One resource row of the table: percent thresholds, each with the time it must hold. */
const resourceRule = (what: string, fleetValue: string, out: number, inBelow: number) => z.strictObject({
  enabled: z.boolean().default(true)
    .describe(`use the ${what} trigger (off: it neither scales out nor takes part in the scale-in vote)`),
  scaleOutAbove: percent(out).describe(`scale out when ${fleetValue} is above this percent…`),
  scaleOutFor: duration('5m', '24h', 'off').describe('…at every sample for this long'),
  scaleInBelow: percent(inBelow).describe(`scale in only when ${fleetValue} is below this percent (and every other resource below its own)…`),
  scaleInFor: duration('15m', '24h', 'off').describe('…at every sample for this long'),
}).refine((r) => r.scaleInBelow < r.scaleOutAbove, { message: 'scaleInBelow must be below scaleOutAbove', path: ['scaleInBelow'] });

const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch { return false; }
};

export const ActuatorSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('none').describe('decide and report only (dashboard, logs): a dry run'),
  }),
  z.strictObject({
    type: z.literal('exec').describe('run a command'),
    command: secret(z.array(z.string().min(1)).min(1), argv)
      .describe('argv, run without a shell; gets the decision as JSON on stdin and SWITCHYARD_SCALE_ACTION/TRIGGER/REASON in its environment; exit 0 = done'),
    timeout: duration('2m', '1h').describe('then SIGTERM to its process group, SIGKILL 2 s later'),
  }),
  z.strictObject({
    type: z.literal('webhook').describe('POST the decision as JSON'),
    url: secret(z.string().refine(isHttpUrl, 'expected an http:// or https:// URL'), webhookUrl).describe('endpoint; a 2xx answer = done'),
    timeout: duration('10s', '5m').describe('longest wait for the answer'),
    headers: secret(z.record(z.string(), z.string()), headers).optional().describe('extra request headers, e.g. authorization'),
  }),
]).describe('how a decision is carried out');

export const ScalingSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('evaluate the auto-scaling triggers and act on them'),
  sampleInterval: duration('10s', '1h')
    .describe('how often load is sampled; a gap of more than twice this restarts every window'),
  minNodes: z.number().int().min(0).default(1).describe('never scale in at or below this many nodes'),
  maxNodes: z.number().int().min(1).optional().describe('never scale out at or above this many nodes (default: no cap)'),
  cpu: resourceRule('CPU', 'the mean CPU of the nodes', 70, 30).prefault({}).describe('CPU utilization trigger'),
  memory: resourceRule('memory', 'the mean memory use of the nodes', 80, 40).prefault({}).describe('memory utilization trigger'),
  connections: resourceRule('connections', 'open connections over the sum of the nodes\' limits', 80, 30).prefault({}).describe('connection count trigger, in percent of the configured maximum'),
  latency: z.strictObject({
    enabled: z.boolean().default(true).describe('use the p99 latency trigger (it only scales out)'),
    p99Factor: z.number().gt(1).default(2).describe('scale out when the fleet p99 is above this multiple of its learned baseline…'),
    for: duration('5m', '24h', 'off').describe('…at every sample for this long'),
    baselineWindow: duration('1h', '168h')
      .describe('time constant of the baseline\'s moving average; samples in a breach are not learned'),
    baselineWarmup: duration('10m', '24h', 'off').describe('samples learned before the baseline is trusted; the trigger is idle until then'),
  }).prefault({}).describe('p99 latency trigger; the fleet p99 is the connection-weighted median of the nodes\' p99'),
  cooldown: duration('10m', '24h', 'off').describe('after any scale action, no other action (either direction) for this long'),
  latencyCooldown: duration('5m', '24h', 'off').describe('the cooldown after an action the latency trigger caused'),
  actuator: ActuatorSchema.prefault({ type: 'none' }),
}).refine((c) => c.maxNodes === undefined || c.maxNodes >= c.minNodes, { message: 'maxNodes must be at least minNodes', path: ['maxNodes'] })
  .describe('auto-scaling of the Switchyard fleet (design: "Auto-Scaling Triggers")');

export type ScalingConfig = z.output<typeof ScalingSchema>;
