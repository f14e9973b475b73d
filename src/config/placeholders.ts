import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';

/*
 * Secrets kept out of the config file: `${env:NAME}` (an environment variable of the process
 * that loads the config) and `${file:/abs/path}` (a file's content, one trailing newline
 * dropped, as Docker and Kubernetes secrets are mounted). Resolved at every load, so a changed
 * secret file is picked up by the next reload, and on each node: a config pushed to etcd keeps
 * the placeholder, never the secret. `$${` writes a literal `${`.
 *
 * Where a placeholder may stand is decided by load.ts (only where the value is hidden when the
 * config is shown); this module only finds and resolves them. It never puts a value in an error.
 */

/** A document path, as zod reports it. */
export type DocPath = readonly (string | number)[];

export interface Resolved {
  /** The document with every resolvable placeholder replaced (a new value; the input is untouched). */
  doc: unknown;
  /** Paths of strings that had a placeholder resolved, with the values that went in (to keep them out of messages). */
  resolved: { path: DocPath; values: string[] }[];
  /**
   * Paths of strings whose secret is missing here (`missing: 'keep'`): only the node that loads
   * the config can resolve it. They hold STAND_IN meanwhile (and are listed in `resolved` too), so
   * the rest of the document, and where the placeholder stands, can still be checked.
   */
  unresolved: DocPath[];
  /** Unknown placeholder, unset variable, unreadable file: where and why (never the value). */
  errors: { path: DocPath; reason: string }[];
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** `error` (a node loading its config): a missing secret is an error; `keep` (a push from elsewhere): left as it is. */
  missing?: 'error' | 'keep';
}

/** What an unresolvable placeholder becomes in `keep` mode: long enough for any length check, valid in a URL. */
export const STAND_IN = 'unresolved-secret-placeholder';

const PLACEHOLDER = /\$(\$?)\{([a-z]+):([^}]*)\}/g;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A secret file is small; a bigger one (or a device such as /dev/zero) is a mistake, never read whole. */
const MAX_FILE_BYTES = 64 * 1024;

/** The value of one placeholder, or why it has none (`missing`: the secret itself is absent, as opposed to a malformed placeholder). */
function lookup(kind: string, arg: string, env: NodeJS.ProcessEnv): { value: string } | { reason: string; missing: boolean } {
  if (kind === 'env') {
    if (!ENV_NAME.test(arg)) return { reason: `\${env:${arg}}: not an environment variable name`, missing: false };
    const v = env[arg];
    if (v === undefined) return { reason: `environment variable ${arg} is not set`, missing: true };
    if (v === '') return { reason: `environment variable ${arg} is empty`, missing: true };
    return { value: v };
  }
  if (kind === 'file') {
    if (!isAbsolute(arg)) return { reason: `\${file:${arg}}: the path must be absolute`, missing: false };
    try {
      const s = statSync(arg);
      if (!s.isFile()) return { reason: `secret file ${arg} is not a regular file`, missing: false };
      if (s.size > MAX_FILE_BYTES) return { reason: `secret file ${arg} is larger than ${MAX_FILE_BYTES} bytes`, missing: false };
      const v = readFileSync(arg, 'utf8').replace(/\r?\n$/, '');
      if (v === '') return { reason: `secret file ${arg} is empty`, missing: true };
      return { value: v };
    } catch (e) {
      return { reason: `cannot read secret file ${arg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, missing: true };
    }
  }
  return { reason: `\${${kind}:…}: unknown placeholder (use \${env:NAME} or \${file:/path})`, missing: false };
}

/** Resolves the placeholders in every string of `doc` (keys are left alone). Pure but for reading env and files. */
export function resolvePlaceholders(doc: unknown, opts: ResolveOptions = {}): Resolved {
  const env = opts.env ?? process.env;
  const out: Resolved = { doc: undefined, resolved: [], unresolved: [], errors: [] };
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') return v.includes('${') ? resolveString(v, path) : v;
    if (Array.isArray(v)) return v.map((e, i) => walk(e, [...path, i]));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, walk(e, [...path, k])]));
    return v;
  };
  const resolveString = (s: string, path: DocPath): string => {
    const values: string[] = [];
    let kept = false;
    const text = s.replace(PLACEHOLDER, (whole, escaped: string, kind: string, arg: string) => {
      if (escaped === '$') return whole.slice(1);
      const r = lookup(kind, arg, env);
      if ('value' in r) { values.push(r.value); return r.value; }
      if (r.missing && opts.missing === 'keep') { kept = true; values.push(STAND_IN); return STAND_IN; }
      out.errors.push({ path, reason: r.reason });
      return whole;
    });
    if (values.length > 0) out.resolved.push({ path, values });
    if (kept) out.unresolved.push(path);
    return text;
  };
  out.doc = walk(doc, []);
  return out;
}

/** True when `path` is `prefix` or inside it. */
export function isUnder(path: readonly PropertyKey[], prefix: DocPath): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => p === path[i]);
}

/** The value at `path` in a JSON-like value (undefined when absent). */
export function valueAt(v: unknown, path: DocPath): unknown {
  let cur = v;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

/** `text` with every occurrence of each secret value replaced by `***` (error messages that might echo a value). */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('***');
  return out;
}
