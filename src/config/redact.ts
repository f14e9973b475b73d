import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { looksLikeUrl, redactTarget, redactUrl, secretMark } from './secrets.js';

/*
 * Redaction by schema: the config as it may be shown (admin API, logs). Every field marked with
 * `secret()` in the schema is passed through its redactor; then, whatever the schema says, every
 * string that is a URL loses its credentials, and every request target (`/health?key=x`) its
 * secret-looking query values (so a field nobody marked still does not leak them).
 */

type Def = {
  type: string; shape?: Record<string, z.core.$ZodType>; innerType?: z.core.$ZodType; in?: z.core.$ZodType; out?: z.core.$ZodType;
  element?: z.core.$ZodType; valueType?: z.core.$ZodType; options?: z.core.$ZodType[]; left?: z.core.$ZodType; right?: z.core.$ZodType;
  items?: z.core.$ZodType[]; rest?: z.core.$ZodType | null; getter?: () => z.core.$ZodType;
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Applies the schema's secret marks to `value` (a parsed value of `schema`); never mutates it. */
function bySchema(schema: z.core.$ZodType, value: unknown): unknown {
  const mark = secretMark(schema);
  if (mark !== undefined) return mark(value);
  const def = schema._zod.def as Def;
  switch (def.type) {
    case 'object': {
      if (!isRecord(value)) return value;
      const out: Record<string, unknown> = { ...value };
      for (const [k, s] of Object.entries(def.shape!)) if (k in out) out[k] = bySchema(s, out[k]);
      return out;
    }
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'nonoptional': case 'readonly': case 'catch':
      return bySchema(def.innerType!, value);
    case 'pipe': return bySchema(def.out!, bySchema(def.in!, value));
    case 'array': return Array.isArray(value) ? value.map((e) => bySchema(def.element!, e)) : value;
    case 'tuple':
      return Array.isArray(value) ? value.map((e, i) => (i < def.items!.length ? bySchema(def.items![i], e) : def.rest ? bySchema(def.rest, e) : e)) : value;
    case 'record':
      return isRecord(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bySchema(def.valueType!, v)])) : value;
    // The value matched one option, unknown which: apply every option's marks (hides more, never less).
    case 'union': return def.options!.reduce((v, o) => bySchema(o, v), value);
    case 'intersection': return bySchema(def.right!, bySchema(def.left!, value));
    case 'lazy': return bySchema(def.getter!(), value);
    default: return value;
  }
}

/** A deep copy of a JSON-like value with every URL's credentials and every request target's secret query values hidden. */
function urlsRedacted(value: unknown): unknown {
  if (typeof value === 'string') return looksLikeUrl(value) ? redactUrl(value) : value.startsWith('/') ? redactTarget(value) : value;
  if (Array.isArray(value)) return value.map(urlsRedacted);
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, urlsRedacted(v)]));
  return value;
}

/** `value` (parsed by `schema`) as it may be shown: marked secrets and URL credentials hidden. A new object. */
export function redactBySchema(schema: z.core.$ZodType, value: unknown): unknown {
  return urlsRedacted(bySchema(schema, value));
}

/** The config as the admin API and logs show it: every secret the schema marks, and every URL's credentials, hidden. */
export function redactConfig(c: Config): unknown {
  return redactBySchema(ConfigSchema, c);
}
