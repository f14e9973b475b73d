import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configJsonSchema } from './schema.js';

/* docs/config.md must document every field the schema accepts (it is the reference users read). */

type Node = { properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; oneOf?: Node[]; additionalProperties?: Node | boolean; default?: unknown };

function fieldNames(node: Node, out: Set<string>): Set<string> {
  for (const [k, v] of Object.entries(node.properties ?? {})) { out.add(k); fieldNames(v, out); }
  if (node.items) fieldNames(node.items, out);
  for (const alt of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) fieldNames(alt, out);
  if (typeof node.additionalProperties === 'object') fieldNames(node.additionalProperties, out);
  return out;
}

test('docs/config.md mentions every config field', () => {
  const docs = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
  const missing = [...fieldNames(configJsonSchema() as Node, new Set())].filter((k) => !docs.includes(k));
  assert.deepEqual(missing, []);
});
