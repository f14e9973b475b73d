import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The layers of src/ (docs/architecture.md, "Layers"), lowest first. A folder may import only
 * folders of a lower layer: never one above, nor a peer of its own layer (so folders cannot form
 * a cycle). Contracts (interfaces, the snapshot) therefore live below every file that uses them.
 * A new folder must be given a layer here. Unit tests (*.test.ts) are exempt: nothing imports
 * them, and one may assemble its subject with real parts from above (or test/support helpers).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['util'],
  ['observe'],
  ['config'],
  ['net', 'hotspot', 'resilience', 'scaling', 'routing', 'ratelimit'],
  ['upstream', 'tls', 'defence'],
  ['snapshot'],
  ['listener'],
  ['http', 'tcp', 'dns'],
  ['runtime'],
  ['anycast'],
  ['admin', 'fleet', 'store'],
  ['capacity', 'loadtest', 'demo'],
  ['lab'],
  ['cli'],
];

/** One import of a file in src/, by folder. */
interface Import { file: string; spec: string; from: string; to: string }

/** Relative import specifiers of a TypeScript source (static, type-only, re-exports, dynamic). */
function importsOf(source: string): string[] {
  const specs: { at: number; spec: string }[] = [];
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const forms = [
    /(?:^|[;\n])\s*(?:import|export)\b[^'";]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]/g, // import … from, export … from
    /(?:^|[;\n])\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g, // import './side-effect.js'
    /\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g, // import('./dynamic.js')
  ];
  for (const re of forms) for (const m of text.matchAll(re)) specs.push({ at: m.index, spec: m[1] });
  return specs.sort((a, b) => a.at - b.at).map((s) => s.spec);
}

/** Every import of a .ts file under `root` that crosses from one top-level folder to another. */
function crossFolderImports(root: string): Import[] {
  const out: Import[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const file = relative(root, path).split(sep).join('/');
        const from = file.split('/')[0];
        for (const spec of importsOf(readFileSync(path, 'utf8'))) {
          const target = relative(root, normalize(join(dirname(path), spec))).split(sep).join('/');
          const to = target.split('/')[0];
          if (file.includes('/') && to !== from) out.push({ file: `src/${file}`, spec, from, to });
        }
      }
    }
  };
  walk(root);
  return out;
}

/** The imports that break the layering, each as one line naming the file and the import. */
function violations(imports: readonly Import[], layers = LAYERS): string[] {
  const rank = new Map<string, number>();
  layers.forEach((folders, i) => { for (const f of folders) rank.set(f, i); });
  const out: string[] = [];
  for (const i of imports) {
    const a = rank.get(i.from);
    const b = rank.get(i.to);
    if (a === undefined || b === undefined) out.push(`${i.file}: '${i.spec}': folder ${a === undefined ? i.from : i.to} has no layer (add it to LAYERS in src/architecture.test.ts)`);
    else if (b > a) out.push(`${i.file}: '${i.spec}' imports up: ${i.from} (layer ${a}) -> ${i.to} (layer ${b})`);
    else if (b === a) out.push(`${i.file}: '${i.spec}' imports a peer: ${i.from} and ${i.to} share layer ${a}`);
  }
  return out;
}

/**
 * The folders caught in import cycles, whatever the layers say: each strongly connected group of
 * folders, as `a, b, c (a -> b, b -> c, c -> a)` with the imports between them.
 */
function folderCycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) (edges.get(i.from) ?? edges.set(i.from, new Set()).get(i.from)!).add(i.to);
  // Tarjan's strongly connected components.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) { group.push(w); if (w === v) break; }
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups.map((g) => {
    const inside = g.flatMap((a) => [...edges.get(a) ?? []].filter((b) => g.includes(b)).map((b) => `${a} -> ${b}`));
    return `${g.join(', ')} (${inside.join(', ')})`;
  }).sort();
}

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

test('no folder of src/ imports a folder above it or beside it (the layers of docs/architecture.md)', () => {
  const found = violations(crossFolderImports(SRC));
  assert.deepEqual(found, [], `imports against the layers:\n${found.join('\n')}`);
});

test('the folders of src/ import each other without a cycle', () => {
  const found = folderCycles(crossFolderImports(SRC));
  assert.deepEqual(found, [], `folder cycles:\n${found.join('\n')}`);
});

test('the checker reads every import form and names the offending file and import', () => {
  const src = [
    "import { a } from '../config/x.js';",
    "import type {\n  B,\n  C,\n} from '../runtime/y.js';",
    "export { d } from './local.js';",
    "export * from '../util/z.js';",
    "const m = await import('../cli/main.js');",
    "// import { no } from '../admin/commented.js';",
    "import 'node:fs';",
    "import './polyfill.js';",
    "export const notAnImport = '../admin/x.js';",
  ].join('\n');
  assert.deepEqual(importsOf(src), ['../config/x.js', '../runtime/y.js', './local.js', '../util/z.js', '../cli/main.js', './polyfill.js']);
  const layers = [['util'], ['config', 'hotspot'], ['runtime']];
  const graph: Import[] = [
    { file: 'src/config/schema.ts', spec: '../runtime/primary.js', from: 'config', to: 'runtime' },
    { file: 'src/config/schema.ts', spec: '../hotspot/schema.js', from: 'config', to: 'hotspot' },
    { file: 'src/runtime/a.ts', spec: '../util/b.js', from: 'runtime', to: 'util' },
    { file: 'src/runtime/a.ts', spec: '../mystery/c.js', from: 'runtime', to: 'mystery' },
  ];
  assert.deepEqual(violations(graph, layers), [
    "src/config/schema.ts: '../runtime/primary.js' imports up: config (layer 1) -> runtime (layer 2)",
    "src/config/schema.ts: '../hotspot/schema.js' imports a peer: config and hotspot share layer 1",
    "src/runtime/a.ts: '../mystery/c.js': folder mystery has no layer (add it to LAYERS in src/architecture.test.ts)",
  ]);
  assert.deepEqual(folderCycles([...graph, { file: 'src/hotspot/s.ts', spec: '../config/r.js', from: 'hotspot', to: 'config' }]),
    ['config, hotspot (config -> hotspot, hotspot -> config)']);
});
