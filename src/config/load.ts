import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { ConfigError } from '../util/errors.js';
import { isUnder, resolvePlaceholders, scrub, valueAt, type ResolveOptions } from './placeholders.js';
import { redactConfig } from './redact.js';

/** Renders a zod issue path as `services.api.backends[0].address`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

function issueLines(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) lines.push(`${formatPath([...i.path, k])}: unknown key`);
    } else if (i.code === 'invalid_union' && i.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input".
      const best = [...i.errors].sort((a, b) => a.length - b.length)[0];
      lines.push(...issueLines(best.map((e) => ({ ...e, path: [...i.path, ...e.path] }))));
    } else {
      lines.push(`${formatPath(i.path)}: ${i.message}`);
    }
  }
  return [...new Set(lines)];
}

/** Parses config text: `.json` files as JSON, everything else as YAML (a superset of JSON). */
export function parseConfigText(text: string, sourceName: string): unknown {
  if (sourceName.endsWith('.json')) {
    try { return JSON.parse(text); } catch (e) {
      throw new ConfigError(sourceName, [`(root): invalid JSON: ${(e as Error).message}`]);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(sourceName, doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `(root): YAML ${pos ? `line ${pos.line} col ${pos.col}` : ''}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    }));
  }
  return doc.toJS();
}

/**
 * Validates a parsed document, filling defaults. Throws ConfigError listing every problem as
 * `path: reason`; never returns a partially valid config. `${env:…}`/`${file:…}` placeholders
 * (placeholders.ts) are resolved first; one is accepted only where the value is hidden when the
 * config is shown (admin API, logs, `config show`), so a resolved secret is never displayed. With
 * `missing: 'keep'` (a push: the secrets live on the nodes) an unresolvable one gets a stand-in:
 * its field's own checks are skipped, where it stands is still checked.
 */
export function validateConfig(raw: unknown, sourceName = 'config', opts: ResolveOptions = {}): Config {
  const { config, lines } = check(raw, opts);
  if (config === undefined || lines.length > 0) throw new ConfigError(sourceName, lines);
  return config;
}

/**
 * What a push checks: as validateConfig, except that a placeholder the pushing host cannot
 * resolve (the secret lives on the nodes) is not an error and its field's value is not checked.
 */
export function checkPushedConfig(raw: unknown, sourceName: string): void {
  const { lines } = check(raw, { missing: 'keep' });
  if (lines.length > 0) throw new ConfigError(sourceName, lines);
}

function check(raw: unknown, opts: ResolveOptions): { config?: Config; lines: string[] } {
  const p = resolvePlaceholders(raw ?? {}, opts);
  const secrets = p.resolved.flatMap((r) => r.values);
  const lines = p.errors.map((e) => `${formatPath(e.path)}: ${e.reason}`);
  const r = ConfigSchema.safeParse(p.doc);
  if (!r.success) {
    const issues = r.error.issues.filter((i) => !p.unresolved.some((u) => isUnder(i.path, u)));
    lines.push(...issueLines(issues).map((l) => scrub(l, secrets)));
  } else if (p.resolved.length > 0) {
    const shown = redactConfig(r.data);
    for (const { path } of p.resolved) {
      if (JSON.stringify(valueAt(shown, path)) === JSON.stringify(valueAt(r.data, path))) {
        lines.push(`${formatPath(path)}: a \${env:…} or \${file:…} placeholder is allowed only in a secret field (one the admin API shows as ***), and this one would be shown`);
      }
    }
  }
  return { config: r.success ? r.data : undefined, lines: [...new Set(lines)] };
}

/** Reads, parses and validates a config file. Throws ConfigError (or a read error as ConfigError). */
export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`(root): cannot read file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`]);
  }
  return validateConfig(parseConfigText(text, path), path);
}
