/*
 * The browser side of the HTML report, inlined as text: reads the embedded data and draws the
 * charts of each run with uPlot (also inlined), with dashed lines at phase changes and commands.
 * Plain ES2017, no imports: the report must open from disk with no network.
 */
export const REPORT_SCRIPT = String.raw`
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  var drawn = 0;
  function markers(lines) {
    return { hooks: { draw: [function (u) {
      var ctx = u.ctx, dpr = window.devicePixelRatio || 1;
      ctx.save();
      ctx.font = (11 * dpr) + 'px sans-serif';
      ctx.setLineDash([5 * dpr, 4 * dpr]);
      lines.forEach(function (m, i) {
        var x = u.valToPos(m.t, 'x', true);
        if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
        ctx.strokeStyle = m.color; ctx.fillStyle = m.color;
        ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        // Staggered, so a kill at a phase change does not print over the phase's name.
        ctx.fillText(m.label, x + 3 * dpr, u.bbox.top + (12 + 12 * (i % 3)) * dpr);
      });
      ctx.restore();
      if (!u.reportDrawn) { u.reportDrawn = true; drawn++; document.body.dataset.chartsDrawn = String(drawn); }
    }] } };
  }
  function fromZero(u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; }
  function chart(el, title, yLabel, labels, columns, lines, scales) {
    var width = Math.max(480, el.clientWidth || 900);
    var series = [{ label: 't (s)' }].concat(labels.map(function (l, i) {
      return { label: l, stroke: palette[i % palette.length], width: 1.5, spanGaps: false, scale: scales ? scales[i] : 'y' };
    }));
    var axes = [{ label: 'seconds since the run started' }, { label: yLabel, scale: scales ? scales[0] : 'y' }];
    if (scales && scales.indexOf('y2') >= 0) axes.push({ label: labels[scales.indexOf('y2')], scale: 'y2', side: 1, grid: { show: false } });
    var div = document.createElement('div');
    div.className = 'chart';
    el.appendChild(div);
    return new uPlot({ title: title, width: width, height: 240, series: series, axes: axes, plugins: [markers(lines)],
      // From zero: a dip from 400/s to 397/s should look like one.
      scales: { x: { time: false }, y: { range: fromZero }, y2: { range: fromZero } } }, columns, div);
  }
  data.runs.forEach(function (run, i) {
    var el = document.getElementById('charts-' + i);
    var s = run.series;
    if (!el || s.t.length === 0) return;
    var lines = run.phases.slice(1).map(function (p) { return { t: p.startS, label: p.name, color: '#888' }; })
      .concat(run.events.map(function (e) { return { t: e.startedAtS, label: e.label, color: '#d62728' }; }));
    chart(el, 'Rate', 'requests / s', ['offered', 'sent', 'ok (throughput)'], [s.t, s.offered, s.sent, s.ok], lines);
    var kinds = Object.keys(s.errors);
    chart(el, 'Errors (by scheduled second)', 'failed requests / s', ['failed'].concat(kinds), [s.t, s.failed].concat(kinds.map(function (k) { return s.errors[k]; })), lines);
    chart(el, 'Latency from intended send time', 'ms', ['p50', 'p99', 'max'], [s.t, s.p50, s.p99, s.max], lines);
    if (run.admin.t.length > 0) {
      chart(el, 'Target node (admin API)', 'resident memory (MiB)', ['memory MiB', 'open connections'], [run.admin.t, run.admin.memMiB, run.admin.connections], lines, ['y', 'y2']);
    }
  });
  document.body.dataset.chartsExpected = String(document.querySelectorAll('.chart').length);
})();
`;
