import type { ScalingConfig } from '../config/scaling-schema.js';
import type { ActuatorConfig } from './actuator.js';
import type { LatencyRule, ResourceRule, ScalingPolicy } from './evaluator.js';

type ResourceConfig = ScalingConfig['cpu'];

function rule(r: ResourceConfig): ResourceRule | null {
  return r.enabled ? { scaleOutAbove: r.scaleOutAbove, scaleOutForMs: r.scaleOutFor, scaleInBelow: r.scaleInBelow, scaleInForMs: r.scaleInFor } : null;
}

/** The evaluator policy of a parsed `autoscaling` block. Pure; does not look at `enabled`. */
export function policyFromConfig(cfg: ScalingConfig): ScalingPolicy {
  const l = cfg.latency;
  const latency: LatencyRule | null = l.enabled
    ? { p99Factor: l.p99Factor, forMs: l.for, baselineTimeConstantMs: l.baselineWindow, baselineWarmupMs: l.baselineWarmup }
    : null;
  return {
    cpu: rule(cfg.cpu),
    memory: rule(cfg.memory),
    connections: rule(cfg.connections),
    latency,
    cooldownMs: cfg.cooldown,
    latencyCooldownMs: cfg.latencyCooldown,
    sampleIntervalMs: cfg.sampleInterval,
    minNodes: cfg.minNodes,
    maxNodes: cfg.maxNodes ?? Infinity,
  };
}

/** The actuator config of a parsed `autoscaling` block, for `createActuator`. */
export function actuatorConfigFromConfig(cfg: ScalingConfig): ActuatorConfig {
  const a = cfg.actuator;
  switch (a.type) {
    case 'none': return { type: 'none' };
    case 'exec': return { type: 'exec', command: a.command, timeoutMs: a.timeout };
    case 'webhook': return { type: 'webhook', url: a.url, timeoutMs: a.timeout, ...(a.headers ? { headers: a.headers } : {}) };
  }
}
