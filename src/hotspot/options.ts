import type { HotspotConfig } from '../config/hotspot-schema.js';
import type { HotspotOptions } from './detector.js';

/** Detector settings of a service from its validated block (the rest keep DEFAULT_HOTSPOT). */
export function hotspotOptions(cfg: HotspotConfig): Partial<HotspotOptions> {
  return { skew: cfg.skew, forMs: cfg.for, windowMs: cfg.window, mitigate: cfg.mitigate };
}
