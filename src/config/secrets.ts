import { z } from 'zod';

/*
 * Secrets in the config, and how each kind is hidden before the config is shown (admin API,
 * logs). A field holding a secret is marked in the schema with `secret(schema, how)`; redact.ts
 * walks the schema and applies the mark. The value helpers below are pure and also usable on
 * their own (e.g. to put a URL in an error message). When in doubt they hide more, never less.
 */

/** What a secret is replaced by. */
export const REDACTED = '***';

/** Turns a value into what may be shown. */
export type Redactor = (value: unknown) => unknown;

/** The marks: schema → how its values are redacted. Read through `secretMark`. */
const marks = z.registry<{ redact: Redactor }>();

/**
 * Marks `schema` as holding a secret: its values are passed through `redact` (default: replaced
 * by `***`) wherever the config is shown. Call it last in the chain, or wrap it in
 * `.optional()`/`.default()`/`.describe()` (those keep the mark); a check added after it
 * (`.min()`, `.refine()`) makes a new schema that would not carry it.
 */
export function secret<T extends z.ZodType>(schema: T, redact: Redactor = hide): T {
  marks.add(schema, { redact });
  return schema;
}

/** The redactor of a marked schema (or of the schema it was cloned from), else undefined. */
export function secretMark(schema: z.core.$ZodType): Redactor | undefined {
  return marks.get(schema)?.redact;
}

/** The whole value replaced. */
export const hide: Redactor = (v) => (v === undefined ? v : REDACTED);

/*
 * Names (query keys, header names, command-line options) that suggest a secret. Matched as
 * substrings of the lower-cased name without `-`/`_`, so `X-Api-Key`, `access_token`,
 * `proxy-authorization`, `x-amz-signature` and `client_secret` all match; a harmless name that
 * matches too (`author`) costs only a hidden value.
 */
const SECRET_NAME = /pass|pwd|secret|token|key|auth|sig|cred|cookie|session|jwt|bearer|private/;

/** True when a query key, header or option name looks like it carries a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name.toLowerCase().replace(/[-_.\s]/g, ''));
}

/** `a=1&password=x` → `a=1&password=***` (secret-looking keys only; the rest kept byte for byte). */
function redactParams(params: string): string {
  return params.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    let name = eq === -1 ? pair : pair.slice(0, eq);
    try { name = decodeURIComponent(name.replace(/\+/g, ' ')); } catch { /* keep it raw */ }
    return eq !== -1 && isSecretName(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
  }).join('&');
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True when `text` starts like a URL with an authority (`scheme://`). */
export function looksLikeUrl(text: string): boolean {
  return SCHEME.test(text);
}

/**
 * A URL with its secrets hidden: the password of the userinfo (the whole userinfo when there is
 * no password: a token used as the user name), and the values of secret-looking query and
 * fragment keys (`?password=`, `access_token`, `sig`…). The userinfo runs to the *last* `@`; a
 * URL with an `@` after a `/`, `?` or `#` (parsers disagree on its host, e.g. a password holding
 * `/`) is shown as its scheme only. Strings that are not URLs come back unchanged.
 */
export function redactUrl(text: string, opts: { path?: boolean } = {}): string {
  const scheme = SCHEME.exec(text);
  if (scheme === null) return text;
  let rest = text.slice(scheme[0].length);
  let userinfo = '';
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    // An `@` after a `/`, `?` or `#`: parsers differ on where the host is; show the scheme only.
    if (/[/?#\\]/.test(rest.slice(0, at))) return `${scheme[0]}${REDACTED}`;
    const colon = rest.slice(0, at).indexOf(':');
    userinfo = colon === -1 ? `${REDACTED}@` : `${rest.slice(0, colon)}:${REDACTED}@`;
    rest = rest.slice(at + 1);
  }
  const hashAt = rest.indexOf('#');
  const fragment = hashAt === -1 ? undefined : rest.slice(hashAt + 1);
  if (hashAt !== -1) rest = rest.slice(0, hashAt);
  const q = rest.indexOf('?');
  const query = q === -1 ? undefined : rest.slice(q + 1);
  let authorityAndPath = q === -1 ? rest : rest.slice(0, q);
  if (opts.path) {
    // Webhook URLs often carry their secret in the path (Slack, Discord): keep the authority only.
    const slash = authorityAndPath.indexOf('/');
    if (slash !== -1 && slash < authorityAndPath.length - 1) authorityAndPath = `${authorityAndPath.slice(0, slash)}/${REDACTED}`;
  }
  return `${scheme[0]}${userinfo}${authorityAndPath}${query === undefined ? '' : `?${redactParams(query)}`}${fragment === undefined ? '' : `#${redactParams(fragment)}`}`;
}

/** A request target (`/health?key=x`, as a health check's path): values of secret-looking query keys hidden. */
export function redactTarget(text: string): string {
  const q = text.indexOf('?');
  return q === -1 ? text : `${text.slice(0, q + 1)}${redactParams(text.slice(q + 1))}`;
}

/** A URL field: see redactUrl. */
export const url: Redactor = (v) => (typeof v === 'string' ? redactUrl(v) : v);

/** A webhook URL field: as `url`, and the path too (often the secret itself). */
export const webhookUrl: Redactor = (v) => (typeof v === 'string' ? redactUrl(v, { path: true }) : v);

/** A map of HTTP header name → value: values of secret-looking names (authorization, cookie, x-api-key…) hidden. */
export const headers: Redactor = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSecretName(k) ? REDACTED : x]));
};

/** A header match (`{ name, exact | prefix | regex }`): the value hidden when the header's name is secret-looking. */
export const headerMatch: Redactor = (v) => {
  if (typeof v !== 'object' || v === null || typeof (v as { name?: unknown }).name !== 'string') return v;
  if (!isSecretName((v as { name: string }).name)) return v;
  const out: Record<string, unknown> = { ...v };
  for (const k of ['exact', 'prefix', 'regex']) if (out[k] !== undefined) out[k] = REDACTED;
  return out;
};

/**
 * A command line (argv): values of secret-looking options hidden — `--token=x`, `--token x`,
 * `TOKEN=x` (env style), `Authorization: Bearer x` (a header argument) — and URLs redacted.
 */
export const argv: Redactor = (v) => {
  if (!Array.isArray(v)) return v;
  const out = v.map((a) => (typeof a === 'string' ? redactUrl(a) : a));
  for (let i = 0; i < out.length; i++) {
    const a = out[i];
    if (typeof a !== 'string') continue;
    const assign = /^(-{0,2}[A-Za-z0-9_.-]+)=/.exec(a);
    const header = /^([A-Za-z0-9-]+):\s/.exec(a);
    if (assign !== null && isSecretName(assign[1])) out[i] = `${assign[0]}${REDACTED}`;
    else if (header !== null && isSecretName(header[1])) out[i] = `${header[1]}: ${REDACTED}`;
    else if (/^--?[A-Za-z]/.test(a) && !a.includes('=') && isSecretName(a) && i + 1 < out.length) out[++i] = REDACTED;
  }
  return out;
};
