// Per-second view of one bench/hang.mjs run: requests are bucketed by the
// second they were sent in (relative to the freeze), with their error count and
// latency percentiles; plus the summary row of each contender.
import { table } from './report.mjs';

function pct(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * load: the message of bench/lib/resilience-load.mjs; freezeAtMs: when the
 * victim was stopped (ms since t0). Returns { seconds: [{ s, n, errors, p50,
 * p99, max }], errors, causes, p99, firstUnderS, recoveredS } where `s` is the
 * second relative to the freeze, firstUnderS the first second after the freeze
 * with p99 < goalMs and no error, and recoveredS the first from which every
 * later second is so (null: never; one noisy second resets it).
 */
export function perSecond(load, freezeAtMs, goalMs = 50) {
  const buckets = new Map();
  const all = [];
  let errors = 0;
  for (let i = 0; i < load.n; i++) {
    const s = Math.floor((i * load.intervalMs - freezeAtMs) / 1000);
    let b = buckets.get(s);
    if (!b) buckets.set(s, (b = { s, lat: [], errors: 0 }));
    const lat = Number.isNaN(load.done[i]) ? Infinity : load.done[i] - i * load.intervalMs;
    b.lat.push(lat);
    all.push(lat);
    const st = load.status[i];
    if (!(st >= 200 && st < 300)) { b.errors++; errors++; }
  }
  const seconds = [...buckets.values()].sort((a, b) => a.s - b.s).map((b) => {
    b.lat.sort((x, y) => x - y);
    return { s: b.s, n: b.lat.length, errors: b.errors, p50: pct(b.lat, 0.5), p99: pct(b.lat, 0.99), max: b.lat[b.lat.length - 1] };
  });
  all.sort((x, y) => x - y);
  let recoveredS = null;
  let firstUnderS = null;
  for (const row of seconds) {
    if (row.s < 0) continue;
    if (row.p99 < goalMs && row.errors === 0) { recoveredS ??= row.s; firstUnderS ??= row.s; } else recoveredS = null;
  }
  const causes = {};
  for (const [, c] of load.failures) causes[c] = (causes[c] ?? 0) + 1;
  return { seconds, errors, causes, p99: pct(all, 0.99), firstUnderS, recoveredS };
}

const ms = (v) => (Number.isFinite(v) ? (v >= 100 ? Math.round(v) : v.toFixed(1)) : '∞');

/** The Markdown report of a whole run: results[name] = { note, view, counters }. */
export function renderHang(p, results) {
  const names = Object.keys(results);
  const out = [];
  out.push(`# Hung backend: one of three ${p.mode === 'kill' ? 'killed (SIGKILL)' : 'frozen (SIGSTOP)'} under ${p.rate} req/s\n`);
  out.push(`Open-loop GETs (${p.rate}/s, ${p.durationMs / 1000} s after a ${p.warmupMs / 1000} s warm-up, ${p.connections} client connections, client timeout ${p.timeoutMs / 1000} s); backend-2 ${p.mode === 'kill' ? 'killed' : 'frozen'} at ${p.freezeAtMs / 1000} s. Engine: ${p.engine}. ${p.note}\n`);
  out.push(table(['contender', 'what it was given'], names.map((n) => [n, results[n].note])));
  out.push('\n## Summary\n');
  const sec = (s) => (s === null ? 'never' : `+${s}`);
  out.push(table(['contender', 'requests', 'errors', 'p99 ms (whole run)', 'p99 ms, second of the freeze', 'first second after it with p99 < 50 ms', '… and every second after', 'retries', 'hedges sent / won', 'retry budget refusals'],
    names.map((n) => {
      const r = results[n];
      const c = r.counters;
      const at0 = r.view.seconds.find((s) => s.s === 0);
      return [n, String(r.view.seconds.reduce((a, s) => a + s.n, 0)), String(r.view.errors), ms(r.view.p99), at0 ? ms(at0.p99) : '', sec(r.view.firstUnderS), sec(r.view.recoveredS),
        c ? String(c.retries) : '–', c ? `${c.hedgesSent} / ${c.hedgesWon}` : '–', c ? String(c.budgetExhausted) : '–'];
    })));
  out.push('\n## Per second (by send time, relative to the freeze): errors / p99 ms\n');
  const secs = [...new Set(names.flatMap((n) => results[n].view.seconds.map((s) => s.s)))].sort((a, b) => a - b);
  out.push(table(['second', ...names], secs.map((s) => [s >= 0 ? `+${s}` : String(s), ...names.map((n) => {
    const row = results[n].view.seconds.find((x) => x.s === s);
    return row ? `${row.errors} / ${ms(row.p99)}` : '';
  })])));
  const causes = names.filter((n) => Object.keys(results[n].view.causes).length > 0);
  if (causes.length > 0) {
    out.push('\n## Failures by cause\n');
    for (const n of causes) out.push(`- ${n}: ${Object.entries(results[n].view.causes).map(([c, k]) => `${k} × ${c}`).join('; ')}`);
  }
  return out.join('\n');
}
