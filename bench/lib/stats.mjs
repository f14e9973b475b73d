// Reduces the per-run samples of each peer to medians (the machine is noisy;
// a median over interleaved runs is robust to one bad window).
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// (max - min) / median: how much the runs disagreed.
export function spread(values) {
  const v = values.filter((x) => Number.isFinite(x));
  const med = median(v);
  return v.length > 1 && med ? (Math.max(...v) - Math.min(...v)) / med : 0;
}

// A per-core figure counts only when the proxy was the limit: it used (nearly) all of its core,
// or its core was fully busy — the part not charged to the proxy is then the kernel's softirq
// work for its sockets (loopback delivery), which /proc charges to no process.
export const SATURATED = 0.95;
export const CORE_FULL = 0.97;
export const isSaturated = (proxyCores, proxyCoreBusy) => proxyCores >= SATURATED || proxyCoreBusy >= CORE_FULL;

export function summarize(peer, samples) {
  const ok = samples.filter((s) => !s.error);
  const pick = (k) => ok.map((s) => s[k]);
  const rps = pick('rps');
  const med = median(rps);
  return {
    name: peer.name,
    note: peer.note,
    pinning: peer.pinning,
    runs: samples.length,
    okRuns: ok.length,
    failures: samples.filter((s) => s.error).map((s) => s.error),
    rps: med,
    // (max - min) / median: how much the runs disagreed.
    spread: rps.length > 1 ? (Math.max(...rps) - Math.min(...rps)) / med : 0,
    p50: median(pick('p50')), // wrk
    p99: median(pick('p99')),
    latencyMean: median(pick('latencyMean')), // h2load (no percentiles)
    latencySd: median(pick('latencySd')),
    tls: ok.find((s) => s.tls)?.tls ?? null, // what h2load negotiated
    proxyCores: median(pick('proxyCores')),
    reqPerCpuSec: median(pick('reqPerCpuSec')),
    usPerReq: 1e6 / median(pick('reqPerCpuSec')),
    // Only rows pinned to one core can saturate it; unpinned rows are compared by throughput.
    saturated: peer.pinning?.startsWith('core') ? isSaturated(median(pick('proxyCores')), median(ok.map((s) => s.coreBusy?.[1]))) : null,
    core0Busy: median(ok.map((s) => s.coreBusy?.[0])),
    core1Busy: median(ok.map((s) => s.coreBusy?.[1])),
    otherCores: median(pick('otherCores')),
    errors: ok.reduce((a, s) => a + s.non2xx + s.socketErrors, 0),
  };
}

// Switchyard median / peer median for throughput, efficiency and latency
// (`latencyKey`: the scenario's tail figure, p99 for wrk, the mean for h2load).
export function ratios(rows, syName, latencyKey = 'p99') {
  const sy = rows.find((r) => r.name === syName);
  if (!sy || !sy.okRuns) return null;
  return Object.fromEntries(
    rows
      .filter((r) => !r.name.startsWith('switchyard') && r.okRuns)
      .map((r) => [r.name, {
        rps: sy.rps / r.rps, reqPerCpuSec: sy.reqPerCpuSec / r.reqPerCpuSec, latency: sy[latencyKey] / r[latencyKey],
        // A per-CPU-second ratio is honest only when both sides were the limit of their run.
        fair: sy.saturated !== false && r.saturated !== false,
      }]),
  );
}

// An issue target "Switchyard ≥ min × peer in req per CPU-s": counted (PASS or
// FAIL) only when both rows saturated their core; null when a row is missing.
export function perCpuTarget(rows, syName, peerName, min) {
  const sy = rows.find((r) => r.name === syName && r.okRuns);
  const peer = rows.find((r) => r.name === peerName && r.okRuns);
  if (!sy || !peer) return null;
  const ratio = sy.reqPerCpuSec / peer.reqPerCpuSec;
  const counted = sy.saturated === true && peer.saturated === true;
  return { switchyard: syName, peer: peerName, min, ratio, counted, pass: counted ? ratio >= min : null };
}

// The project's multi-core goal for plain HTTP/1.1: switchyard-auto against
// nginx-2w measured in the same run (null unless both rows ran). Counted only
// when neither run saturated the generator's core: these proxies share it, so a
// busy generator core caps them both and the ratio says nothing about scaling.
export function multiCoreTarget(rows) {
  const auto = rows.find((r) => r.name === 'switchyard-auto');
  const nginx2 = rows.find((r) => r.name === 'nginx-2w');
  if (!auto?.okRuns || !nginx2?.okRuns) return null;
  const counted = auto.core0Busy < 0.95 && nginx2.core0Busy < 0.95;
  return { rpsRatio: auto.rps / nginx2.rps, p99Ratio: auto.p99 / nginx2.p99, rpsOk: auto.rps >= 0.6 * nginx2.rps, p99Ok: auto.p99 <= 2 * nginx2.p99, counted };
}
