import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigSchema, type Config } from './schema.js';
import { ConfigError } from '../util/errors.js';

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
 * `path: reason`; never returns a partially valid config.
 */
export function validateConfig(raw: unknown, sourceName = 'config'): Config {
  const r = ConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(sourceName, issueLines(r.error.issues));
  return r.data;
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
