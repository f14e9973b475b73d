// Renders the results as Markdown (pasteable into the README) and JSON, and
// describes the machine and tool versions the figures came from.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { SATURATED, CORE_FULL } from './stats.mjs';

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  return r.error ? 'n/a' : text.split('\n')[0];
}

export function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  return {
    nproc: Number(firstLine('nproc', [])) || os.cpus().length,
    model,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    wrk: firstLine('wrk', ['-v']).replace(/\s*\[.*$/, ''),
    nginx: firstLine('nginx', ['-v']).replace(/^nginx version:\s*/, ''),
    haproxy: firstLine('haproxy', ['-v']).replace(/\s*-\s*https?:.*$/, ''),
    h2load: firstLine('h2load', ['--version']),
    openssl: firstLine('openssl', ['version']),
  };
}

const num = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const ms = (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : 'n/a');
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

export function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(result) {
  const { meta, scenarios } = result;
  const m = meta.machine;
  const out = [];
  out.push(`### Benchmark (${meta.date})`, '');
  out.push(`- Command: \`${meta.command}\``);
  out.push(`- Machine: ${m.nproc} × ${m.model}, ${m.kernel}; Node ${m.node}; ${m.wrk}; ${m.h2load}; ${m.openssl}; nginx ${m.nginx}; ${m.haproxy}`);
  out.push(`- Each peer is started for each measurement, warmed up for ${meta.warmup}, measured for ${meta.duration}; ${meta.runs} interleaved runs (peer order rotated each run); every figure is the median over runs.`);
  out.push(
    `- Pinning: the load generator and the 3 backends (${meta.backends === 'nginx' ? 'one nginx worker' : 'raw \`net\` Node'}, fixed 200, plain HTTP/1.1) share core ${meta.genCore}; "core ${meta.proxyCore}" rows run the proxy alone on core ${meta.proxyCore} (per-core figures); "unpinned" rows let the proxy use every core (\`taskset -c ${meta.allCores}\`), sharing core ${meta.genCore} with the generator and the backends.`,
  );
  out.push('- proxy CPU = utime+stime of all the proxy\'s processes (master, workers, threads) during the window, in cores; req per CPU-s = requests ÷ those CPU seconds.');
  out.push(`- spread = (max − min) ÷ median of req/s over runs; core ${meta.genCore} busy near 100% means the generator side (load generator + backends) was the limit, not the proxy; other CPU = task CPU (in cores) used by processes outside the bench during the window (noise); errors = non-2xx + socket errors summed over runs.`);
  if (scenarios.some((sc) => sc.tls)) out.push('- TLS scenarios: the proxy\'s listener is TLS with one throwaway self-signed P-256 certificate for every peer, ALPN `h2,http/1.1`; the backends behind it stay plain HTTP/1.1.');
  for (const sc of scenarios) out.push('', ...renderScenario(meta, sc));
  return out.join('\n') + '\n';
}

// One protocol's table, warnings, Switchyard ÷ peer ratios and targets.
function renderScenario(meta, sc) {
  const { rows, ratios, target, perCpuTargets } = sc;
  const [lat1, lat2] = sc.latency;
  const out = [`#### ${sc.title}`, '', `- Load: \`${sc.load}\``];
  if (sc.skipped) return [...out, '', `Not run: ${sc.skipped}.`];
  if (!rows.length) return [...out, '', 'No peer of this scenario was selected (`--only`).'];
  out.push('');
  out.push(
    table(
      ['peer', 'proxy pinning', 'req/s', 'spread', lat1.label, lat2.label, 'proxy CPU', `core ${meta.proxyCore} busy`, 'saturated', 'req per CPU-s', 'µs CPU per req', `core ${meta.genCore} busy`, 'other CPU', 'errors'],
      rows.map((r) =>
        r.okRuns
          ? [r.name, r.pinning, num(r.rps), pct(r.spread), ms(r[lat1.key]), ms(r[lat2.key]), num(r.proxyCores, 2), pct(r.core1Busy), r.saturated === null ? '—' : r.saturated ? 'yes' : '**no**', num(r.reqPerCpuSec), num(r.usPerReq, 1), pct(r.core0Busy), num(r.otherCores, 2), String(r.errors)]
          : [r.name, r.pinning, `failed: ${r.failures[0] ?? r.skipped ?? 'no runs'}`.replace(/\|/g, '/').slice(0, 120), '', '', '', '', '', '', '', '', '', '', ''],
      ),
    ),
  );
  const negotiated = rows.filter((r) => r.tls).map((r) => `${r.name} ${r.tls}`);
  if (negotiated.length) out.push('', `Negotiated (h2load): ${negotiated.join('; ')}.`);
  const noisy = rows.filter((r) => r.otherCores > 0.2).map((r) => r.name);
  if (noisy.length) out.push('', `⚠ Other processes used a median > 0.2 cores during the windows of: ${noisy.join(', ')}. Those figures are disturbed; rerun on a quiet machine.`);
  const unsaturated = rows.filter((r) => r.okRuns && r.saturated === false);
  const genBound = unsaturated.filter((r) => r.core0Busy >= 0.95).map((r) => r.name);
  if (unsaturated.length) {
    out.push('', `⚠ Not saturated (proxy < ${SATURATED * 100}% of its core, and its core < ${CORE_FULL * 100}% busy): ${unsaturated.map((r) => r.name).join(', ')}` +
      (genBound.length ? `; of those, generator-bound (core ${meta.genCore} ≥ 95% busy first): ${genBound.join(', ')}` : '') +
      '. A proxy that idles looks less efficient per CPU-second than it is: their per-CPU-s ratios are marked (unsaturated) and do not count; use lighter backends or more connections.');
  }
  const floor = rows.find((r) => r.name === 'floor' && r.okRuns && r.saturated);
  const sy1 = rows.find((r) => r.name === 'switchyard-1' && r.okRuns && r.saturated);
  if (floor && sy1) out.push('', `Budget: switchyard-1 spends ${num(sy1.usPerReq, 1)} µs of CPU per request, of which ${num(floor.usPerReq, 1)} µs is Node's socket floor (peer \`floor\`) and ${num(sy1.usPerReq - floor.usPerReq, 1)} µs Switchyard's own code.`);
  const syNames = Object.keys(ratios).filter((k) => ratios[k]);
  if (syNames.length) {
    const peers = [...new Set(syNames.flatMap((k) => Object.keys(ratios[k])))];
    const latName = sc.latencyRatio.label;
    out.push('', `Switchyard ÷ peer (medians; > 1× means Switchyard is ahead; for ${latName} < 1× is better):`, '');
    const header = ['peer'];
    for (const s of syNames) header.push(`${s} req/s`, `${s} req/CPU-s`, `${s} ${latName}`);
    out.push(
      table(
        header,
        peers.map((p) => [p, ...syNames.flatMap((s) => [ratio(ratios[s][p]?.rps), p === 'direct' ? 'n/a' : ratio(ratios[s][p]?.reqPerCpuSec) + (ratios[s][p] && !ratios[s][p].fair ? ' (unsaturated)' : ''), ratio(ratios[s][p]?.latency)])]),
      ),
    );
  }
  for (const t of perCpuTargets ?? []) {
    const verdict = t.counted ? (t.pass ? 'PASS' : 'FAIL') : 'not counted (a side did not saturate its core)';
    out.push('', `Target (${sc.title}, ${t.switchyard} vs ${t.peer}, req per CPU-s, same run): ${pct(t.ratio)} (need ≥ ${pct(t.min)}) ${verdict}.`);
  }
  if (target) {
    const verdict = (ok) => (!target.counted ? 'not counted' : ok ? 'PASS' : 'FAIL');
    out.push('', `Target (switchyard-auto vs nginx-2w, same run): throughput ${pct(target.rpsRatio)} (need ≥ 60%) ${verdict(target.rpsOk)}; p99 ${ratio(target.p99Ratio)} (need ≤ 2×) ${verdict(target.p99Ok)}` +
      (target.counted ? '.' : ` (core ${meta.genCore}, which the load generator shares with both, was ≥ 95% busy: it capped them, not their workers; needs more cores than 2).`));
  }
  const failed = rows.filter((r) => r.failures.length);
  if (failed.length) {
    out.push('', 'Failures:');
    for (const r of failed) out.push(`- ${r.name}: ${r.failures.length}/${r.runs} runs failed; first: ${r.failures[0]}`);
  }
  return out;
}

// `prefix` names another scenario's files (bench/l4.mjs: "l4-" gives
// l4-latest.{json,md} and l4-<stamp>.{json,md}).
export function writeResults(dir, result, markdown, prefix = '') {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = result.meta.date.replace(/[:.]/g, '-');
  for (const name of [`${prefix}latest`, `${prefix}${stamp}`]) {
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(result, null, 2) + '\n');
    fs.writeFileSync(path.join(dir, `${name}.md`), markdown);
  }
  return [path.join(dir, `${prefix}latest.json`), path.join(dir, `${prefix}latest.md`)];
}
