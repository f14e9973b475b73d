// Markdown for bench/l4.mjs: a summary (medians per peer per scenario, with
// per proxy CPU-second figures), Switchyard ÷ each peer, the project's
// targets, then the details of every scenario.
import { table } from './report.mjs';
import { SATURATED, CORE_FULL, isSaturated } from './stats.mjs';

const num = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a');
const ratio = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a');

// Reference figures of the issue (measured on this machine, per proxy CPU-second).
const REFERENCE = {
  haproxy: { bulk: 7.2, conn: 9800 },
  'nginx-stream': { bulk: 6.5, conn: 10200 },
  'naive-tcp': { bulk: 3.0, conn: 5400 },
};
// Switchyard ÷ HAProxy, per proxy CPU-second.
const TARGETS = [
  { id: 'bulk', need: 0.6, what: 'bulk throughput' },
  { id: 'conn', need: 0.6, what: 'new connections' },
  { id: 'tls12-resumed', need: 0.5, what: 'resumed TLS handshakes (TLS 1.2)' },
  { id: 'tls13-resumed', need: 0.5, what: 'resumed TLS handshakes (TLS 1.3, + 1 GET each)', informative: true },
];

const digits = (sc) => (sc.kind === 'bulk' ? 2 : 0);
// A per-CPU-second figure is honest only when the proxy was the limit: it used (nearly) all its core.
const saturated = (c) => isSaturated(c.proxyCores, c.core1Busy);
const SY = 'switchyard';

export function renderL4Markdown(result) {
  const { meta, scenarios, peers, cells, tlsProbes } = result;
  const m = meta.machine;
  const out = [];
  out.push(`### L4 benchmark (${meta.date})`, '');
  out.push(`- Command: \`${meta.command}\``);
  out.push(`- Machine: ${m.nproc} × ${m.model}, ${m.kernel}; Node ${m.node}; nginx ${m.nginx}; ${m.haproxy}; ${m.openssl}; ${m.wrk}`);
  out.push(`- ${meta.runs} interleaved run(s) (peer order rotated each run; each peer started once per run and measured on every scenario it supports), warm-up ${meta.warmup} then a ${meta.duration} window per scenario; every figure is the median over runs.`);
  out.push(`- Pinning: every proxy alone on core ${meta.proxyCore} (\`taskset -c ${meta.proxyCore}\`; Switchyard \`workers: 1\` = primary + 1 worker, HAProxy \`nbthread 1\`, nginx \`worker_processes 1\`); load generators and backends on core ${meta.genCore}.`);
  out.push(
    `- bulk: [lib/l4-sink.mjs](lib/l4-sink.mjs) opens ${meta.bulkConnections} connections through the proxy; the backend [lib/l4-source.mjs](lib/l4-source.mjs) streams a 256 KiB buffer on each as fast as it drains; the sink discards (Gbit = payload bits received).`,
  );
  out.push(
    `- conn: \`wrk -t2 -c${meta.connConnections} -H 'Connection: close'\` through the proxy to an nginx backend that answers \`200\` (≈150 bytes) and closes (\`keepalive_timeout 0\`): every request is one new client connection and one new backend connection.`,
  );
  out.push(
    `- tls: ${meta.tlsClients} parallel \`openssl s_time\` (sequential handshakes each; \`-new\` = full, \`-reuse\` = resumed, no SNI, no ALPN), self-signed P-256 ECDSA certificate; the proxy's TLS listener forwards HTTP to a keep-alive nginx backend, which only the TLS 1.3 resumed scenario reaches (\`-www /\`: s_time only reads the TLS 1.3 ticket when it reads a response).`,
  );
  out.push('- proxy CPU = utime+stime of all the proxy\'s processes during the window, in cores; "per CPU-s" = work ÷ proxy CPU seconds (kernel softirq time is charged to no process, so every proxy is slightly undercounted alike). core 0 busy near 100% with core 1 not: the generator side was the limit; compare by per CPU-s.');
  out.push('');

  // Summary.
  const header = ['peer', 'pinning'];
  for (const sc of scenarios) header.push(`${sc.id} ${sc.unit}`, `${sc.id} ${sc.perCpu}`);
  out.push(
    table(
      header,
      peers.map((p) => [
        p.name,
        p.pinning,
        ...scenarios.flatMap((sc) => {
          const c = cells[sc.id][p.name];
          if (!c) return ['–', '–'];
          if (!c.okRuns) return [`failed: ${(c.skipped ?? c.failures[0] ?? 'no runs').replace(/\|/g, '/').slice(0, 80)}`, ''];
          return [num(c.value, digits(sc)), p.name === 'direct' ? 'n/a' : num(c.perCpuSec, digits(sc))];
        }),
      ]),
    ),
  );

  // Ratios.
  const others = peers.filter((p) => p.name !== SY && p.name !== 'direct');
  if (peers.some((p) => p.name === SY) && others.length) {
    out.push('', 'Switchyard ÷ peer (medians; > 1× means Switchyard is ahead):', '');
    out.push(
      table(
        ['Switchyard ÷', ...scenarios.flatMap((sc) => [`${sc.id} ${sc.unit}`, `${sc.id} per CPU-s`])],
        others.map((p) => [
          p.name,
          ...scenarios.flatMap((sc) => {
            const s = cells[sc.id][SY];
            const o = cells[sc.id][p.name];
            if (!s?.okRuns || !o?.okRuns) return ['–', '–'];
            return [ratio(s.value / o.value), ratio(s.perCpuSec / o.perCpuSec)];
          }),
        ]),
      ),
    );
  }

  // Targets.
  const targetLines = [];
  for (const t of TARGETS) {
    const s = cells[t.id]?.[SY];
    const h = cells[t.id]?.haproxy;
    if (!s?.okRuns || !h?.okRuns) continue;
    const r = s.perCpuSec / h.perCpuSec;
    const idle = [[SY, s], ['haproxy', h]].filter(([, c]) => !saturated(c)).map(([n, c]) => `${n} used ${num(c.proxyCores, 2)} of its core`);
    const verdict = idle.length ? ` → not counted (unsaturated: ${idle.join(', ')})` : t.informative ? ` → ${r >= t.need ? 'would pass' : 'would fail'} (informative)` : ` → **${r >= t.need ? 'PASS' : 'FAIL'}**`;
    targetLines.push(`- ${t.what}: Switchyard ${pct(r)} of HAProxy per CPU-s (need ≥ ${pct(t.need)})${verdict}; throughput ${pct(s.value / h.value)}.`);
  }
  if (targetLines.length) out.push('', 'Targets (Switchyard ÷ HAProxy, per proxy CPU-second, this run):', '', ...targetLines);

  const refLines = Object.entries(REFERENCE)
    .filter(([name]) => peers.some((p) => p.name === name))
    .map(([name, r]) => {
      const b = cells.bulk?.[name];
      const c = cells.conn?.[name];
      return `- ${name}: ${r.bulk} Gbit and ${num(r.conn)} conn per CPU-s (this run: ${b?.okRuns ? num(b.perCpuSec, 2) : 'n/a'} Gbit, ${c?.okRuns ? num(c.perCpuSec) : 'n/a'} conn)`;
    });
  if (refLines.length) out.push('', 'Reference figures quoted in the issue (per proxy CPU-second; a different load generator, so compare ratios rather than absolutes):', '', ...refLines);

  // Details.
  out.push('', 'Details (medians over runs):', '');
  const rows = [];
  for (const sc of scenarios) {
    for (const p of peers) {
      const c = cells[sc.id][p.name];
      if (!c) continue;
      if (!c.okRuns) {
        rows.push([sc.id, p.name, `failed: ${(c.skipped ?? c.failures[0] ?? 'no runs').replace(/\|/g, '/').slice(0, 160)}`, '', '', '', '', '', '', '', '', '']);
        continue;
      }
      const notes = [];
      if (c.reusedShare !== undefined) notes.push(`resumed ${pct(c.reusedShare)}`);
      if (c.p99 !== undefined) notes.push(`p99 ${num(c.p99, 2)} ms`);
      if (c.rootCpuShare !== undefined) notes.push(`${pct(c.rootCpuShare)} of proxy CPU in its root process`);
      if (c.okRuns < c.runs) notes.push(`${c.runs - c.okRuns}/${c.runs} runs failed`);
      rows.push([
        sc.id,
        p.name,
        `${num(c.value, digits(sc))} ${sc.unit}`,
        pct(c.spread),
        p.name === 'direct' ? 'n/a' : num(c.proxyCores, 2),
        p.name === 'direct' ? 'n/a' : saturated(c) ? 'yes' : '**no**',
        p.name === 'direct' ? 'n/a' : num(c.perCpuSec, digits(sc)),
        pct(c.core0Busy),
        pct(c.core1Busy),
        num(c.otherCores, 2),
        String(c.errors),
        notes.join('; '),
      ]);
    }
  }
  out.push(table(['scenario', 'peer', 'throughput', 'spread', 'proxy CPU', 'saturated', 'per CPU-s', `core ${meta.genCore} busy`, `core ${meta.proxyCore} busy`, 'other CPU', 'errors', 'notes'], rows));
  out.push('', 'spread = (max − min) ÷ median over runs; root process = nginx master or Switchyard\'s cluster primary (which, with node:cluster\'s default round-robin scheduling, accepts every connection and hands it to the worker); other CPU = task CPU of processes outside the bench (noise; > 0.2 is flagged); errors: bulk = connections lost, conn = wrk socket errors + non-2xx, tls = s_time clients that stopped early.');
  const noisy = [];
  for (const sc of scenarios) for (const [name, c] of Object.entries(cells[sc.id])) if (c.okRuns && c.otherCores > 0.2) noisy.push(`${sc.id}/${name}`);
  if (noisy.length) out.push('', `⚠ Other processes used a median > 0.2 cores during: ${noisy.join(', ')}. Those figures are disturbed; rerun on a quiet machine.`);
  const idle = [];
  for (const sc of scenarios) for (const [name, c] of Object.entries(cells[sc.id])) if (name !== 'direct' && c.okRuns && !saturated(c)) idle.push(`${sc.id}/${name}${c.core0Busy >= 0.95 ? ' (generator-bound)' : ''}`);
  if (idle.length) out.push('', `⚠ Not saturated (proxy < ${SATURATED * 100}% of its core, and its core < ${CORE_FULL * 100}% busy): ${idle.join(', ')}. A proxy that idles looks less efficient per CPU-second than it is; targets involving them are not counted.`);

  const probes = Object.entries(tlsProbes ?? {});
  if (probes.length) {
    out.push('', 'TLS as negotiated (`openssl s_client -tls1_2`, session saved and offered again):', '');
    for (const [name, p] of probes) out.push(`- ${name}: ${p.protocol || '?'} ${p.cipher || '?'}; ticket issued: ${p.sessionTicketIssued ? 'yes' : 'no'}, session ID issued: ${p.sessionIdIssued ? 'yes' : 'no'}; TLS 1.2 resumption: ${p.mechanism}.`);
    out.push('- TLS 1.3 resumption is always a PSK from a ticket (`psk_dhe_ke`: still one ECDHE per handshake, no certificate signature).');
  }

  const failed = [];
  for (const sc of scenarios) for (const [name, c] of Object.entries(cells[sc.id])) if (c.failures?.length) failed.push(`- ${sc.id}/${name}: ${c.failures.length}/${c.runs} runs failed; first: ${c.failures[0]}`);
  if (failed.length) out.push('', 'Failures:', ...failed);
  return out.join('\n') + '\n';
}
