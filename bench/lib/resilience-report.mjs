// Analysis and Markdown rendering for bench/resilience.mjs. Pure functions of
// the recorded data: every time is in ms since t0 (the first scheduled send).

const FAIL_LIST_CAP = 20_000;

// Nearest-rank percentile of an ascending-sorted array.
function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function latencyStats(values) {
  const s = Float64Array.from(values).sort();
  return { count: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s.length ? s[s.length - 1] : NaN };
}

/**
 * Reduces one scenario's raw data to the figures of the report.
 * load: the generator's message; marks: { kill, killed, restart, restartListening } (ms since t0,
 * restart* absent when there is no restart); events: Switchyard resilience events with `t`.
 */
export function analyze({ load, marks, events, durationMs, victim, victimKey, slowMs = 100 }) {
  const { n, intervalMs, sent, done, status, backend, failures } = load;
  const sched = (i) => i * intervalMs;
  const kill = marks.kill;
  const restart = marks.restart ?? Infinity;
  const phaseOf = (t) => (t < kill ? 'before' : t < restart ? 'during' : 'after');

  // Per phase latency of successful responses, from the scheduled send time
  // (open-loop: includes any queueing, in the generator too) and from the
  // actual send time.
  const phases = { before: [], during: [], after: [] };
  const service = { before: [], during: [], after: [] };
  const slow = { before: 0, during: 0, after: 0 };
  const lag = [];
  let sentCount = 0;
  let completed = 0;
  const answeredBy = { before: {}, during: {}, after: {} };
  let lastVictimBeforeKill = null; // scheduled time of the last response from the victim sent before the kill
  let victimDuring = 0; // responses naming the victim sent after the kill, before the restart
  let firstVictimAfterRestart = null;
  const timeline = [];
  const nsec = Math.ceil(durationMs / 1000);
  for (let s = 0; s < nsec; s++) timeline.push({ s, req: 0, ok: 0, fail: 0, by: {}, lat: [] });

  // Phases, windows and the timeline go by the actual send time (what the
  // proxy saw when); latency is measured from the scheduled send time.
  const sendT = (i) => (Number.isNaN(sent[i]) ? sched(i) : sent[i]);
  for (let i = 0; i < n; i++) {
    const t = sendT(i);
    const ph = phaseOf(t);
    const sec = timeline[Math.min(nsec - 1, Math.max(0, Math.floor(t / 1000)))];
    sec.req++;
    if (!Number.isNaN(sent[i])) {
      sentCount++;
      lag.push(sent[i] - sched(i));
    }
    if (!Number.isNaN(done[i])) completed++;
    const ok = status[i] >= 200 && status[i] <= 299;
    if (!ok) {
      sec.fail++;
      continue;
    }
    sec.ok++;
    const b = backend[i];
    sec.by[b] = (sec.by[b] ?? 0) + 1;
    answeredBy[ph][b] = (answeredBy[ph][b] ?? 0) + 1;
    const lat = done[i] - sched(i);
    phases[ph].push(lat);
    service[ph].push(done[i] - sent[i]);
    sec.lat.push(lat);
    if (lat >= slowMs) slow[ph]++;
    if (b === victim) {
      if (t < kill) lastVictimBeforeKill = t;
      else if (t < restart) victimDuring++;
      else if (firstVictimAfterRestart === null) firstVictimAfterRestart = { sched: t, done: done[i] };
    }
  }

  const latency = {};
  for (const ph of Object.keys(phases)) {
    latency[ph] = { ...latencyStats(phases[ph]), fromSend: latencyStats(service[ph]), slow: slow[ph], answeredBy: answeredBy[ph] };
  }

  // Failures: cause counts, window, and the list (capped).
  const byCause = {};
  let firstFail = null;
  let lastFail = null;
  let lastFailBeforeRestart = null;
  const list = [];
  let inFlightAtKill = 0; // failed requests sent before the kill that completed after it
  for (const [i, cause] of [...failures].sort((a, b) => a[0] - b[0])) {
    const t = sendT(i);
    if (t < kill && !(done[i] < kill)) inFlightAtKill++;
    byCause[cause] = (byCause[cause] ?? 0) + 1;
    if (firstFail === null) firstFail = t;
    lastFail = t;
    if (t >= kill && t < restart) lastFailBeforeRestart = t;
    if (list.length < FAIL_LIST_CAP) {
      list.push({ i, sent: round(t), relKill: round(t - kill), phase: phaseOf(t), status: status[i], cause, latency: round(done[i] - sched(i)), doneRelKill: round(done[i] - kill) });
    }
  }
  const failuresByPhase = { before: 0, during: 0, after: 0 };
  for (const f of failures) failuresByPhase[phaseOf(sendT(f[0]))]++;
  // Failed requests sent after the restart but before backend 2 listened again.
  const beforeListening = failures.filter(([i]) => sendT(i) >= restart && sendT(i) < (marks.restartListening ?? -Infinity)).length;

  // Switchyard's view: resilience events about the victim.
  const victimEvents = events.filter((e) => e.backend === victimKey);
  const otherEvents = events.filter((e) => e.backend !== victimKey);
  const OUT = new Set(['ejected', 'open', 'unhealthy']);
  const BACK = new Set(['returned', 'closed', 'healthy', 'half-open']);
  const out = victimEvents.filter((e) => e.t >= kill && e.t < restart && OUT.has(e.to)).map((e) => ({ ...e, relKill: round(e.t - kill) }));
  const back = victimEvents.filter((e) => e.t >= restart && BACK.has(e.to)).map((e) => ({ ...e, relRestart: round(e.t - restart) }));
  // Earliest event of each kind.
  const firstOfEach = (list) => Object.values(list.reduce((m, e) => ((m[`${e.kind}→${e.to}`] ??= e), m), {}));
  const ejection = out.find((e) => e.kind === 'outlier' && e.to === 'ejected');
  const ejectionEnds = ejection && Number.isFinite(ejection.forMs) ? ejection.t + ejection.forMs : null;

  const sentTimes = [...sent].filter((x) => !Number.isNaN(x));
  const lagStats = latencyStats(lag);
  return {
    requests: n,
    sent: sentCount,
    completed,
    achievedRate: sentTimes.length > 1 ? ((sentTimes.length - 1) * 1000) / (Math.max(...sentTimes) - Math.min(...sentTimes)) : NaN,
    generatorLag: { p50: round(lagStats.p50), p99: round(lagStats.p99), max: round(lagStats.max) },
    marks,
    failures: {
      total: failures.length,
      byPhase: failuresByPhase,
      inFlightAtKill,
      afterRestartBeforeListening: beforeListening,
      byCause,
      first: firstFail === null ? null : { sent: round(firstFail), relKill: round(firstFail - kill) },
      last: lastFail === null ? null : { sent: round(lastFail), relKill: round(lastFail - kill) },
      list,
      listTruncated: failures.length > FAIL_LIST_CAP,
    },
    switchyard: {
      out: firstOfEach(out),
      back: firstOfEach(back),
      ejectionEnds: ejectionEnds === null ? null : { t: round(ejectionEnds), relRestart: Number.isFinite(restart) ? round(ejectionEnds - restart) : null },
      victimEvents,
      otherEvents,
    },
    loadgen: {
      lastFailureAfterKill: lastFailBeforeRestart === null ? null : round(lastFailBeforeRestart - kill),
      lastVictimBeforeKill: lastVictimBeforeKill === null ? null : round(lastVictimBeforeKill - kill),
      victimAnswersDuring: victimDuring,
      firstVictimAfterRestart: firstVictimAfterRestart && {
        sendRelRestart: round(firstVictimAfterRestart.sched - restart),
        doneRelRestart: round(firstVictimAfterRestart.done - restart),
      },
    },
    latency,
    timeline: timeline.map((s) => {
      const l = latencyStats(s.lat);
      return { s: s.s, req: s.req, ok: s.ok, fail: s.fail, by: s.by, p50: round(l.p50), p99: round(l.p99) };
    }),
  };
}

function round(x, d = 2) {
  return Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : x === Infinity ? null : x;
}

// ---------------------------------------------------------------- rendering

const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const ms = (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US')) : 'n/a');
// Signed offset: "+3.2 ms", "+14.81 s".
export function rel(x) {
  if (!Number.isFinite(x)) return 'n/a';
  const sign = x < 0 ? '−' : '+';
  const a = Math.abs(x);
  return a < 1000 ? `${sign}${a < 10 ? a.toFixed(1) : Math.round(a)} ms` : `${sign}${(a / 1000).toFixed(2)} s`;
}
const secs = (x) => `${(x / 1000).toFixed(x % 1000 ? 1 : 0)} s`;
const cell = (s) => String(s).replace(/\|/g, '/').replace(/\n/g, ' ');

function table(header, rows) {
  const line = (cells) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function eventText(e, relKey) {
  const extra = e.kind === 'outlier' && e.to === 'ejected' && Number.isFinite(e.forMs) ? ` (for ${secs(e.forMs)})` : '';
  return `${e.kind} → ${e.to} ${rel(e[relKey])}${extra}`;
}

function causes(byCause) {
  const entries = Object.entries(byCause).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([c, k]) => `${c.replace(/:.*$/, '')} ×${int(k)}`).join('; ') : '–';
}

function restartCell(r, p) {
  const first = r.loadgen.firstVictimAfterRestart;
  if (!Number.isFinite(p.restartAtMs)) return 'no restart in this run';
  if (first) return `${rel(first.sendRelRestart)} (first request it answered: sent then, answered ${rel(first.doneRelRestart)})`;
  const left = p.durationMs - r.marks.restart;
  const ends = r.switchyard.ejectionEnds;
  const why = ends && ends.relRestart > left ? `; still ejected: the ejection ends at restart ${rel(ends.relRestart)}` : '';
  return `not within the run (it ended ${rel(left)} after the restart${why})`;
}

function latRow(rs, ph) {
  return rs.map((r) => {
    const l = r.latency[ph];
    return l.count ? `${ms(l.p50)} / ${ms(l.p99)} (max ${ms(l.max)})` : 'n/a';
  });
}

export function renderMarkdown(result) {
  const { meta, params: p, scenarios } = result;
  const ok = scenarios.filter((s) => s.result);
  const rs = ok.map((s) => s.result);
  const out = [];
  const killS = secs(p.killAtMs);
  const restartS = Number.isFinite(p.restartAtMs) ? secs(p.restartAtMs) : null;
  out.push(`### Resilience: backend 2 SIGKILLed at ${killS}${restartS ? `, restarted at ${restartS}` : ''} (${meta.date})`, '');
  out.push(`- Command: \`${meta.command}\``);
  out.push(`- Machine: ${meta.machine.nproc} × ${meta.machine.model}, ${meta.machine.kernel}; Node ${meta.machine.node}; shared, unpinned.`);
  out.push(
    `- Load: open loop, ${int(p.rate)} GET/s for ${secs(p.durationMs)} (${int(p.requests)} requests per scenario), undici \`Pool\` with ${p.connections} connections, client timeout ${secs(p.timeoutMs)}, after a ${secs(p.warmupMs)} warm-up at the same rate (not recorded). Each request is due at a fixed time; latency is measured from that scheduled time (a stalled generator or proxy shows up as latency, not as a lower rate).`,
  );
  out.push(
    `- Setup: 3 backends (node:http, one process each, 127.0.0.1:${p.backendPorts.join('/')}, body \`backend-N\`); Switchyard \`workers: 1\`, round-robin, engine ${p.engine}, logLevel info, accessLog false, active check \`healthCheck: { path: /, interval: 5s }\` (timeout 2 s, unhealthyThreshold 3, healthyThreshold 2). Backend 2 gets SIGKILL at ${killS}${restartS ? ` and is started again on the same port at ${restartS}` : ''}.`,
  );
  for (const s of scenarios) out.push(`- ${s.title}: ${s.description}`);
  out.push('');

  if (ok.length) {
    const rows = [];
    const row = (label, f) => rows.push([label, ...rs.map(f)]);
    row('requests sent / completed', (r) => `${int(r.sent)} / ${int(r.completed)}`);
    row('achieved rate (req/s); generator lag p99 / max', (r) => `${int(r.achievedRate)}; ${ms(r.generatorLag.p99)} / ${ms(r.generatorLag.max)} ms`);
    row('**client-visible errors (GET)**', (r) => `**${int(r.failures.total)}** (${((100 * r.failures.total) / r.requests).toFixed(2)}%)`);
    row('errors before / during / after', (r) => `${int(r.failures.byPhase.before)} / ${int(r.failures.byPhase.during)} / ${int(r.failures.byPhase.after)}`);
    row('error causes', (r) => causes(r.failures.byCause));
    row('error window (send time, rel. kill)', (r) => (r.failures.first ? `${rel(r.failures.first.relKill)} … ${rel(r.failures.last.relKill)}` : '–'));
    row('Switchyard log: backend 2 taken out (rel. kill)', (r) => (r.switchyard.out.length ? r.switchyard.out.map((e) => eventText(e, 'relKill')).join('; ') : 'no event before the restart'));
    row('load generator: last failed request between kill and restart (send time, rel. kill)', (r) => (r.loadgen.lastFailureAfterKill === null ? 'none' : rel(r.loadgen.lastFailureAfterKill)));
    row('last request answered by backend 2 before kill (send time, rel. kill)', (r) => rel(r.loadgen.lastVictimBeforeKill));
    row('**restart → backend 2 answers again** (send time of its first answer, rel. restart)', (r) => restartCell(r, p));
    row('backend 2 listening again (rel. restart)', (r) => rel(r.marks.restartListening - r.marks.restart));
    row('Switchyard log: backend 2 back (rel. restart)', (r) => {
      const parts = r.switchyard.back.map((e) => eventText(e, 'relRestart'));
      if (r.switchyard.ejectionEnds && !r.switchyard.back.some((e) => e.kind === 'outlier')) parts.push(`ejection ends ${rel(r.switchyard.ejectionEnds.relRestart)} (after the run)`);
      return parts.length ? parts.join('; ') : r.switchyard.out.length ? 'none within the run' : '– (never taken out)';
    });
    row(`p50 / p99 ms before kill (0–${killS})`, (r) => latRow([r], 'before')[0]);
    row(`p50 / p99 ms during (${killS}–${restartS ?? 'end'})`, (r) => latRow([r], 'during')[0]);
    if (restartS) row(`p50 / p99 ms after restart (${restartS}–${secs(p.durationMs)})`, (r) => latRow([r], 'after')[0]);
    row(`responses ≥ ${p.slowMs} ms before / during / after`, (r) => `${int(r.latency.before.slow)} / ${int(r.latency.during.slow)} / ${int(r.latency.after.slow)}`);
    row('Switchyard CPU; whole machine busy; others\' load just before (cores)', (r) => `${r.cpu.switchyardCores.toFixed(2)}; ${r.cpu.machineBusyCores.toFixed(2)} of ${meta.machine.nproc}; ${r.cpu.otherLoadBeforeCores.toFixed(2)}`);
    out.push(table(['', ...ok.map((s) => s.title)], rows));
  }
  for (const s of scenarios.filter((s) => !s.result)) out.push('', `${s.title}: FAILED: ${s.error}`);

  // Definitions and what the numbers mean.
  out.push('', 'How to read it:', '');
  out.push(
    '- *Errors* are requests whose response was not 2xx or that got no response (cause = status + Switchyard code, or the client error). Times are the request\'s actual send time relative to the SIGKILL (both clocks are this process\'s, to ~1 ms); a request sent just before the kill can still fail if Switchyard forwards it after.',
  );
  out.push(
    '- *Taken out* (Switchyard\'s view): the timestamps of the log lines `outlier: app/<b2> → ejected`, `breaker: … → open`, `health: … → unhealthy` minus the time the SIGKILL was sent. Each first event of its kind is listed; the first one is when Switchyard stopped picking backend 2.',
  );
  out.push(
    '- *Last failed request between kill and restart* (load generator\'s view): with retries off, every request routed to the dead backend fails visibly, so this is when routing to it stopped as the client saw it. With retries on, failed attempts are retried on another backend and are invisible to the client; only the log shows when routing stopped.',
  );
  out.push('- *Answers again*: the first response whose body names backend 2 among requests sent after the restart.');
  out.push(
    '- The active check (design defaults) marks a dead backend unhealthy after 3 consecutive failed checks 5 s (±10%) apart: the first failure comes 0–5 s after the kill, so ≈10–15 s for a refused connection (the documented ≈17 s adds the 2 s probe timeout, which a refused connect does not wait for). An outage shorter than that is never seen by the active check at all: a passing check resets the count. A backend marked unhealthy comes back after 2 passing checks (≈5–10 s after it listens again). An outlier ejection lasts `baseEjectionTime` (30 s) × the number of ejections and a passing active check does not end it. Nothing was tuned to make any of these figures look better.',
  );

  const notes = findings(scenarios, p);
  if (notes.length) out.push('', 'Findings from this run:', '', ...notes.map((x) => `- ${x}`));

  // Per-second timeline, scenarios side by side.
  if (ok.length) {
    out.push('', 'Per second (by send time): requests that failed, answers from backend 1/2/3, p99 ms of successful ones.', '');
    const header = ['s'];
    for (const s of ok) header.push(`${s.id} fail`, `${s.id} b1/b2/b3`, `${s.id} p99`);
    const killSec = Math.floor(p.killAtMs / 1000);
    const restartSec = Number.isFinite(p.restartAtMs) ? Math.floor(p.restartAtMs / 1000) : -1;
    const rows = rs[0].timeline.map((_, k) => {
      const mark = k === killSec ? ' kill' : k === restartSec ? ' restart' : '';
      const cells = [`${k}${mark}`];
      for (const r of rs) {
        const t = r.timeline[k];
        cells.push(int(t.fail), `${t.by[1] ?? 0}/${t.by[2] ?? 0}/${t.by[3] ?? 0}`, ms(t.p99));
      }
      return cells;
    });
    out.push(table(header, rows));
  }
  return out.join('\n') + '\n';
}

// Plain-language observations derived from the data (including the surprising ones).
function findings(scenarios, p) {
  const notes = [];
  for (const s of scenarios) {
    const r = s.result;
    if (!r) continue;
    const f = r.failures;
    if (f.total === 0) notes.push(`${s.id}: no client-visible errors.`);
    else {
      const sample = f.list.slice(0, 3).map((x) => `#${x.i} at ${rel(x.relKill)}: ${x.cause}`).join('; ');
      const doneRel = f.list.map((x) => x.doneRelKill).filter(Number.isFinite);
      const lats = f.list.map((x) => x.latency).filter(Number.isFinite).sort((a, b) => a - b);
      notes.push(
        `${s.id}: ${int(f.total)} client-visible errors, ${causes(f.byCause)}; first ones: ${sample}. ` +
          `They were answered between ${rel(Math.min(...doneRel))} and ${rel(Math.max(...doneRel))} after the kill, latency ${ms(lats[0])}–${ms(lats[lats.length - 1])} ms.`,
      );
      if (s.id === 'A' && f.byCause['502 SWY_UPSTREAM_CONNECT']) {
        notes.push(
          `${s.id}: a 502 SWY_UPSTREAM_CONNECT with retries on means the connect retry (immediate, another backend, any method) was not granted. With one dead backend of three, neither the 2 connect retries nor the backends to pick from run out, which leaves the retry budget: at most max(3, 20% of requests in flight) retries in flight per service, used up when the kill's failures arrive in one burst.`,
        );
      }
    }
    if (f.inFlightAtKill) notes.push(`${s.id}: ${f.inFlightAtKill} of the failed requests were sent before the kill (at most ${rel(-Math.min(...f.list.filter((x) => x.relKill < 0).map((x) => x.relKill)))} before) and were still in flight in Switchyard when it happened.`);
    const unrelated = f.byPhase.before - f.inFlightAtKill;
    if (unrelated > 0) notes.push(`${s.id}: ${unrelated} errors completed before the kill: unrelated to it (see failures.list in the JSON).`);
    if (f.afterRestartBeforeListening) notes.push(`${s.id}: ${f.afterRestartBeforeListening} errors were sent after the restart command but before backend 2 listened again (${rel(r.marks.restartListening - r.marks.restart)} process start-up); nothing had taken it out of rotation, so requests kept going to it.`);
    const afterOther = f.byPhase.after - f.afterRestartBeforeListening;
    if (afterOther > 0) notes.push(`${s.id}: ${afterOther} errors after backend 2 listened again.`);
    if (r.warmup?.failures) notes.push(`${s.id}: ${r.warmup.failures} of ${r.warmup.requests} warm-up requests failed (before the measured window).`);
    const first = r.switchyard.out[0];
    if (first) notes.push(`${s.id}: Switchyard stopped picking backend 2 ${rel(first.relKill)} after the kill (${first.kind} → ${first.to}).`);
    if (Number.isFinite(p.restartAtMs) && !r.loadgen.firstVictimAfterRestart) {
      const e = r.switchyard.ejectionEnds;
      const h = r.switchyard.back.find((x) => x.kind === 'health');
      notes.push(
        `${s.id}: backend 2 did not answer again within the ${secs(p.durationMs - p.restartAtMs)} after its restart` +
          (h ? `; the active check saw it healthy ${rel(h.relRestart)} after the restart` : '') +
          (e ? `, but it stays ejected by outlier detection until ${rel(e.relRestart)} after the restart (the ejection started at the kill and lasts ${secs(r.switchyard.out.find((x) => x.kind === 'outlier')?.forMs ?? NaN)}): with the defaults a backend that comes back quickly is kept out for the whole ejection time.` : '.'),
      );
    }
    const unhealthy = r.switchyard.out.find((e) => e.kind === 'health');
    if (!unhealthy) {
      const outage = (r.marks.restartListening ?? r.marks.restart ?? p.durationMs) - r.marks.kill;
      notes.push(`${s.id}: the active check never marked backend 2 unhealthy: it was down for ${rel(outage).slice(1)} (${Number.isFinite(p.restartAtMs) ? 'kill → listening again' : 'kill → end of run'}), too short for 3 consecutive failed checks 5 s apart (≈10–15 s) in this run.` + (r.switchyard.out.length ? '' : ' Nothing else took it out of rotation either, so about 1 request in 3 went to it for the whole outage.'));
    }
    if (r.loadgen.victimAnswersDuring) notes.push(`${s.id}: ${r.loadgen.victimAnswersDuring} requests sent after the kill were still answered by backend 2 (in flight when it died, or sent within the kill's own millisecond).`);
    if (r.switchyard.otherEvents.length) notes.push(`${s.id}: resilience events about other backends: ${r.switchyard.otherEvents.map((e) => `${e.kind} ${e.backend} → ${e.to} at ${rel(e.t - r.marks.kill)} rel. kill`).join('; ')}.`);
    if (r.generatorLag.p99 > 5) notes.push(`${s.id}: the generator itself lagged (p99 ${ms(r.generatorLag.p99)} ms behind schedule); latency figures include that.`);
  }
  return notes;
}
