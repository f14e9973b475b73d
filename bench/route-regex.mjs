// Cost of a route regex match on RE2 (re2js, what Switchyard uses: linear time) against V8's
// backtracking RegExp, for ordinary route patterns, and the time of one adversarial path on
// catastrophic patterns (V8 is only run on short inputs: it doubles per character).
//
//   npm run build && node bench/route-regex.mjs [--matches 1000000]   (--help for the flags)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseSpec, specUsage } from './lib/args.mjs';

const SPEC = { matches: { env: 'REGEX_MATCHES', def: '1000000', help: 'matches timed per pattern and engine' } };
const opts = parseSpec(process.argv.slice(2), SPEC, specUsage('bench/route-regex.mjs', SPEC));
const n = Number(opts.matches);
if (!Number.isInteger(n) || n < 1000) throw new Error('--matches must be an integer >= 1000');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { compileLinearRegex } = await import(pathToFileURL(path.join(root, 'dist/src/util/linear-regex.js')).href);

const time = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
console.log('| pattern | input | RE2 ns/match | V8 ns/match |');
console.log('| --- | --- | --- | --- |');
for (const [pattern, inputs] of [
  ['^/v[0-9]+/users$', ['/v12/users', '/v12/orders/123']],
  ['\\.php', ['/x/index.php', '/static/app.js']],
  ['^/api/(users|orders|items)/[0-9]+$', ['/api/orders/42', '/api/carts/42']],
]) {
  const re2 = compileLinearRegex(pattern);
  const v8 = new RegExp(pattern);
  for (const input of inputs) {
    let hits = 0;
    const a = time(() => { for (let i = 0; i < n; i++) if (re2.test(input)) hits++; });
    const b = time(() => { for (let i = 0; i < n; i++) if (v8.test(input)) hits--; });
    if (hits !== 0) throw new Error(`engines disagree on ${pattern} / ${input}`);
    console.log(`| \`${pattern}\` | \`${input}\` | ${((a * 1e6) / n).toFixed(0)} | ${((b * 1e6) / n).toFixed(0)} |`);
  }
}
console.log('\n| catastrophic pattern | RE2 ms, 16 KB adversarial path (first / warm) | V8 ms, 20-char path | V8 ms, 24-char path |');
console.log('| --- | --- | --- | --- |');
for (const pattern of ['^/(a+)+$', '^/(a|aa)+$', '^/([a-zA-Z]+)*$']) {
  const re2 = compileLinearRegex(pattern);
  const v8 = new RegExp(pattern);
  const evil = (k) => `/${'a'.repeat(k)}!`;
  const first = time(() => re2.test(evil(16_384)));
  const warm = Math.min(...[1, 2, 3].map(() => time(() => re2.test(evil(16_384)))));
  console.log(`| \`${pattern}\` | ${first.toFixed(1)} / ${warm.toFixed(1)} | ${time(() => v8.test(evil(20))).toFixed(0)} | ${time(() => v8.test(evil(24))).toFixed(0)} |`);
}
