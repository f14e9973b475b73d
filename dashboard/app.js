/*
 * The Switchyard operations page. Plain browser JS, no build step: it reads the admin API's
 * server-sent snapshots (one a second) after the last hour of chart points the node kept (so a
 * page load is not blank), keeps up to an hour per chart, and sends the two writes the API has
 * (drain/undrain, reload). All data goes into the
 * page through textContent, never innerHTML, so names from the config cannot inject markup.
 */
'use strict';
(() => {
  const TOKEN_KEY = 'switchyard.adminToken';
  const HISTORY_POINTS = 3600; // one snapshot a second: an hour, as much as the node keeps (admin/history.ts)
  const STALE_MS = 5000; // snapshots come every second; this much silence means a dead stream
  const CHART_HEIGHT = 160;
  const STATES = ['healthy', 'unhealthy', 'draining', 'ejected', 'breaker-open'];
  const $ = (id) => document.getElementById(id);

  /* ---------- API and token ---------- */

  let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

  class Unauthorized extends Error {}

  /**
   * fetch with the token as a Bearer header (never in the URL); a write goes as JSON, which the
   * API requires of writes. A 401 opens the token form and throws Unauthorized.
   */
  async function send(path, init = {}) {
    const headers = { ...(init.headers ?? {}) };
    if (token !== '') headers.authorization = `Bearer ${token}`;
    const write = init.method !== undefined && init.method !== 'GET';
    if (write) headers['content-type'] = 'application/json';
    const res = await fetch(path, { ...init, headers, cache: 'no-store', ...(write ? { body: init.body ?? '{}' } : {}) });
    if (res.status === 401) { askForToken(); throw new Unauthorized('unauthorized'); }
    return res;
  }

  /** A JSON request: `{ status, ok, body }` (body null when not JSON). */
  async function api(path, init = {}) {
    const res = await send(path, init);
    let body = null;
    try { body = await res.json(); } catch { /* not JSON: leave null */ }
    return { status: res.status, ok: res.ok, body };
  }

  function askForToken() {
    disconnect();
    setConnection('locked', 'token needed');
    $('login-message').textContent = token === ''
      ? 'This admin listener needs a token (admin.token in the config).'
      : 'The token was refused. Enter it again.';
    $('login').hidden = false;
    $('main').hidden = true;
    $('reload').hidden = true;
    $('token').focus();
  }

  $('login').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    // sessionStorage: the token lives as long as the tab and is never sent as a cookie.
    sessionStorage.setItem(TOKEN_KEY, token);
    $('token').value = '';
    $('login').hidden = true;
    $('main').hidden = false;
    $('reload').hidden = false;
    void connect();
  });

  /* ---------- the event stream ---------- */

  let source = null; // the AbortController of the open stream
  let generation = 0;
  let retryTimer;
  let staleTimer;
  let retryMs = 1000;

  function setConnection(state, text) {
    const el = $('connection');
    el.textContent = text ?? state;
    el.className = `conn conn-${state}`;
  }

  function disconnect() {
    generation++;
    clearTimeout(retryTimer);
    clearTimeout(staleTimer);
    if (source !== null) { source.abort(); source = null; }
  }

  /**
   * Opens the event stream with fetch, not EventSource: EventSource cannot send the token in a
   * header (it would have to go in the URL, into logs and history). A 401 asks for the token; any
   * other failure or end of stream reconnects with backoff.
   */
  async function connect() {
    disconnect();
    const gen = generation;
    const ctrl = new AbortController();
    source = ctrl;
    setConnection('connecting', 'connecting');
    try {
      const res = await send('/api/events', { signal: ctrl.signal, headers: { accept: 'text/event-stream' } });
      if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status}`);
      retryMs = 1000;
      setConnection('live');
      watchdog();
      await readEvents(res.body, (event, data) => {
        if (gen !== generation || (event !== 'snapshot' && event !== 'history')) return;
        watchdog();
        let body;
        try { body = JSON.parse(data); } catch { return; }
        if (event === 'history') seedHistory(body);
        else render(body);
      });
    } catch (e) {
      if (e instanceof Unauthorized) return;
    }
    if (gen === generation) scheduleReconnect();
  }

  /** Reads server-sent events (`event:`/`data:` lines, a blank line ends one) until the stream ends. */
  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value; // the admin server ends lines with \n only
      let end;
      while ((end = buf.indexOf('\n\n')) !== -1) {
        let event = 'message';
        const data = [];
        for (const line of buf.slice(0, end).split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
        }
        buf = buf.slice(end + 2);
        if (data.length > 0) onEvent(event, data.join('\n'));
      }
    }
  }

  function scheduleReconnect() {
    disconnect();
    setConnection('down', `reconnecting in ${Math.round(retryMs / 1000)} s`);
    retryTimer = setTimeout(() => void connect(), retryMs);
    retryMs = Math.min(retryMs * 2, 15_000);
  }

  function watchdog() {
    clearTimeout(staleTimer);
    staleTimer = setTimeout(scheduleReconnect, STALE_MS);
  }

  /* ---------- history for the charts ---------- */

  /** A fixed-size ring of rows; columns() gives each column oldest first, as uPlot wants them. */
  class Ring {
    constructor(size, width) {
      this.size = size;
      this.cols = Array.from({ length: width }, () => new Array(size));
      this.next = 0;
      this.count = 0;
    }
    push(row) {
      for (let i = 0; i < this.cols.length; i++) this.cols[i][this.next] = row[i];
      this.next = (this.next + 1) % this.size;
      this.count = Math.min(this.count + 1, this.size);
    }
    columns() {
      const start = (this.next - this.count + this.size) % this.size;
      return this.cols.map((c) => Array.from({ length: this.count }, (_, i) => c[(start + i) % this.size]));
    }
  }

  /* ---------- the node's own history ---------- */

  let seeded = {}; // series name → columns, from the node, waiting for their charts

  /** The last hour from the node (`svc:NAME` and `node` series): charts made from now on start with it. */
  function seedHistory(h) {
    seeded = h !== null && typeof h === 'object' ? h : {};
    for (const v of views.values()) { v.card.remove(); for (const c of Object.values(v.charts)) c.destroy(); v.resize.disconnect(); }
    views.clear();
    if (nodeView !== null) { for (const c of Object.values(nodeView.charts)) c.destroy(); nodeView.resize.disconnect(); }
    nodeView = null;
  }

  /** A ring of `width` columns filled from the seeded series `name` (if any). */
  function seededRing(name, width) {
    const ring = new Ring(HISTORY_POINTS, width);
    const cols = seeded[name];
    if (Array.isArray(cols) && cols.length === width && Array.isArray(cols[0])) {
      for (let i = 0; i < cols[0].length; i++) ring.push(cols.map((c) => c[i] ?? null));
    }
    delete seeded[name];
    return ring;
  }

  /* ---------- rendering ---------- */

  const views = new Map(); // service name → { card, summary, charts, tbody, rows }
  const pending = new Map(); // "service\nbackend" → { want: draining, until }

  function render(snap) {
    renderStatus(snap.status ?? {});
    const services = Array.isArray(snap.services) ? snap.services : [];
    const t = Date.now() / 1000;
    renderServices(services, t, snap.health ?? {});
    renderSignals(snap.signals ?? {});
    renderTraffic(snap.traffic ?? null, t);
    renderRoutes(Array.isArray(snap.routes) ? snap.routes : []);
    renderErrors(snap.traffic ?? null);
    renderFleet(snap.status ?? {});
    renderConfigVersions(snap.status?.configVersion);
  }

  function renderStatus(s) {
    $('node').textContent = text(s.node);
    $('version').textContent = text(s.version);
    $('uptime').textContent = typeof s.uptimeS === 'number' ? duration(s.uptimeS) : '–';
    $('uptime').title = s.startedAt ? `started ${s.startedAt}` : '';
    $('config-version').textContent = s.configVersion === undefined ? '–' : `v${s.configVersion}`;
    $('workers').textContent = text(s.workers);
    const r = s.readiness;
    $('ready').textContent = r ? (r.ready ? 'ready' : `not ready: ${r.reason}`) : '–';
    const a = s.anycast;
    $('anycast-item').hidden = !a;
    if (a) {
      const bgp = (a.bird?.protocols ?? []).filter((p) => p.proto === 'BGP');
      const bfd = a.bird?.bfd ?? [];
      const sessions = a.bird?.reachable === false ? 'BIRD unreachable'
        : `BGP ${bgp.filter((p) => p.bgpState === 'Established').length}/${bgp.length}, BFD ${bfd.filter((b) => b.state === 'Up').length}/${bfd.length}`;
      $('anycast').textContent = `${a.state}${a.state === 'announced' ? '' : ` (${a.reason})`} · ${sessions}`;
      $('anycast').title = `${(a.vips ?? []).join(' ')} since ${a.since}`;
    }
    $('zone-item').hidden = s.zone === undefined || s.zone === null;
    $('zone').textContent = text(s.zone);
    $('store-item').hidden = s.store === undefined || s.store === null;
    $('store').textContent = storeText(s.store);
  }

  function renderServices(services, t, health) {
    const box = $('services');
    if (services.length === 0) { box.replaceChildren(el('p', 'muted', 'no services')); views.clear(); return; }
    if (views.size === 0) box.replaceChildren();
    const seen = new Set();
    services.forEach((s, i) => {
      seen.add(s.name);
      let v = views.get(s.name);
      if (v === undefined) { v = createService(s.name); views.set(s.name, v); }
      if (box.children[i] !== v.card) box.insertBefore(v.card, box.children[i] ?? null);
      updateService(v, s, t, health[s.name] ?? {});
    });
    for (const [name, v] of views) {
      if (seen.has(name)) continue;
      for (const c of Object.values(v.charts)) c.destroy();
      v.resize.disconnect();
      v.card.remove();
      views.delete(name);
    }
  }

  function createService(name) {
    const card = el('section', 'card service');
    card.dataset.service = name;
    const head = el('div', 'service-head');
    head.append(el('h2', null, name), el('span', 'summary'));
    const charts = el('div', 'charts');
    const table = el('table', 'backends');
    const thead = el('thead');
    const hr = el('tr');
    for (const h of ['Backend', 'State', 'Health', 'Breaker', 'Ejected', 'Draining', 'Weight', 'In-flight', 'RPS', 'Errors', 'p99', '']) hr.append(el('th', null, h));
    thead.append(hr);
    const tbody = el('tbody');
    table.append(thead, tbody);
    const wrap = el('div', 'table-wrap');
    wrap.append(table);
    const zones = el('div', 'zones');
    zones.hidden = true;
    card.append(head, zones, charts, wrap);
    $('services').append(card); // in the DOM before the charts, so they can measure their width
    const v = {
      card, summary: head.lastChild, zones, tbody, rows: new Map(), history: seededRing(`svc:${name}`, 5),
      charts: {
        rps: chart(charts, 'Requests / s', [{ label: 'rps', stroke: '#2563eb', fill: 'rgba(37,99,235,0.08)' }], num, 1),
        err: chart(charts, 'Error rate', [{ label: 'errors', stroke: '#dc2626', fill: 'rgba(220,38,38,0.08)' }], (x) => `${num(x)}%`, 1),
        lat: chart(charts, 'Latency', [{ label: 'p50', stroke: '#0d9488' }, { label: 'p99', stroke: '#7c3aed' }], ms, 1),
      },
    };
    v.resize = new ResizeObserver(() => {
      for (const c of Object.values(v.charts)) {
        const w = c.root.parentElement.clientWidth;
        if (w > 0 && w !== c.width) c.setSize({ width: w, height: CHART_HEIGHT });
      }
    });
    v.resize.observe(charts);
    const [ts, rps, err, p50, p99] = v.history.columns();
    if (ts.length > 0) { v.lastT = ts[ts.length - 1]; v.charts.rps.setData([ts, rps]); v.charts.err.setData([ts, err]); v.charts.lat.setData([ts, p50, p99]); }
    return v;
  }

  /**
   * One uPlot chart in its own cell of `parent`; y starts at 0 and is at least `minTop` high. The
   * legend shows the newest values, or the hovered ones while the cursor is on the chart.
   */
  function chart(parent, title, series, fmt, minTop) {
    const cell = el('div', 'chart');
    parent.append(cell);
    const axis = { stroke: '#64748b', grid: { stroke: '#eef1f5' }, ticks: { stroke: '#e2e8f0' }, font: '11px system-ui, sans-serif' };
    const opts = {
      title, width: Math.max(240, cell.clientWidth), height: CHART_HEIGHT,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(minTop, (max ?? 0) * 1.15)] } },
      axes: [
        { ...axis, space: 70, values: (_u, splits) => splits.map(clock) },
        { ...axis, size: 60, values: (_u, splits) => splits.map(fmt) },
      ],
      series: [
        { value: (u, x, _si, idx) => clock(idx == null ? u.data[0][u.data[0].length - 1] : x) },
        ...series.map((s) => ({
          ...s, width: 1.5, points: { show: false },
          value: (u, x, si, idx) => {
            const v = idx == null ? u.data[si][u.data[si].length - 1] : x;
            return v === null || v === undefined ? '–' : fmt(v);
          },
        })),
      ],
    };
    return new uPlot(opts, [[], ...series.map(() => [])], cell);
  }

  function updateService(v, s, t, health) {
    const healthy = (s.backends ?? []).filter((b) => b.state === 'healthy').length;
    v.summary.textContent = [
      s.algorithm, `${num(s.rps)} rps`, `${pct(s.errorRate)} errors`, `p50 ${ms(s.p50Ms)}`, `p99 ${ms(s.p99Ms)}`,
      `${text(s.inFlight)} in flight`, `${healthy}/${(s.backends ?? []).length} healthy`,
    ].join('  ·  ');
    // A gap in the stream (reconnect) breaks the lines instead of bridging it with a straight one.
    if (v.lastT !== undefined && t - v.lastT > 3) v.history.push([v.lastT + 1, null, null, null, null]);
    v.lastT = t;
    v.history.push([t, s.rps ?? null, typeof s.errorRate === 'number' ? s.errorRate * 100 : null, s.p50Ms ?? null, s.p99Ms ?? null]);
    const [ts, rps, err, p50, p99] = v.history.columns();
    v.charts.rps.setData([ts, rps]);
    v.charts.err.setData([ts, err]);
    v.charts.lat.setData([ts, p50, p99]);
    v.card.dataset.points = String(ts.length); // how much history the charts hold (read by the tests)

    renderZones(v.zones, s.zones ?? []);

    const seen = new Set();
    (s.backends ?? []).forEach((b, i) => {
      seen.add(b.key);
      let row = v.rows.get(b.key);
      if (row === undefined) { row = createRow(s.name, b.key); v.rows.set(b.key, row); }
      if (v.tbody.children[i] !== row.tr) v.tbody.insertBefore(row.tr, v.tbody.children[i] ?? null);
      updateRow(row, s.name, b, health[b.key]);
    });
    for (const [key, row] of v.rows) if (!seen.has(key)) { row.tr.remove(); v.rows.delete(key); }
  }

  /** Share served per backend zone over the window: a stacked bar and one label per zone. */
  function renderZones(box, zones) {
    box.hidden = zones.length === 0;
    if (zones.length === 0) return;
    const bar = el('div', 'zone-bar');
    const labels = el('div', 'zone-labels');
    zones.forEach((z, i) => {
      const seg = el('span', `zone-seg zone-c${i % 6}`);
      seg.style.width = `${Math.max(0, Math.min(100, z.share * 100))}%`;
      seg.title = `zone ${z.zone}: ${pct(z.share)} (${num(z.rps)} rps, ${z.backends} backends)`;
      bar.append(seg);
      const label = el('span', 'zone-label');
      label.dataset.zone = z.zone;
      label.append(el('span', `zone-dot zone-c${i % 6}`), el('span', null, `${z.zone} ${pct(z.share)}`));
      labels.append(label);
    });
    box.replaceChildren(el('span', 'zone-title', 'Served per zone'), bar, labels);
  }

  const FIELDS = ['backend', 'state', 'health', 'breaker', 'ejected', 'draining', 'weight', 'inFlight', 'rps', 'errorRate', 'p99Ms', 'action'];
  const NUMERIC = new Set(['weight', 'inFlight', 'rps', 'errorRate', 'p99Ms']);

  function createRow(service, key) {
    const tr = el('tr');
    tr.dataset.service = service;
    tr.dataset.backend = key;
    const cells = {};
    for (const f of FIELDS) {
      const td = el('td', NUMERIC.has(f) ? 'num' : null);
      td.dataset.field = f;
      tr.append(td);
      cells[f] = td;
    }
    const keyEl = el('span', 'key', key);
    const zoneEl = el('span', 'zone');
    cells.backend.append(keyEl, zoneEl);
    const badge = el('span', 'badge');
    cells.state.append(badge);
    const healthEl = el('span');
    const reasonEl = el('span', 'reason');
    cells.health.append(healthEl, reasonEl);
    const button = el('button', 'small');
    button.type = 'button';
    button.addEventListener('click', () => void toggleDrain(service, key, button.dataset.action));
    cells.action.append(button);
    return { tr, cells, zoneEl, badge, button, healthEl, reasonEl };
  }

  function updateRow(row, service, b, change) {
    const { cells } = row;
    row.zoneEl.textContent = b.zone ? b.zone : '';
    const state = STATES.includes(b.state) ? b.state : 'unknown';
    row.badge.textContent = text(b.state);
    row.badge.className = `badge state-${state}`;
    row.healthEl.textContent = text(b.health);
    cells.health.className = b.health === 'unhealthy' ? 'bad' : '';
    // why the checker last changed its mind, and when (absent: never changed, or checked by a fleet checker)
    row.reasonEl.textContent = change ? `${change.reason} · ${new Date(change.at).toLocaleTimeString([], { hour12: false })}` : '';
    cells.breaker.textContent = text(b.breaker);
    cells.breaker.className = b.breaker === 'open' ? 'bad' : b.breaker === 'half-open' ? 'warn' : '';
    cells.ejected.textContent = yesNo(b.ejected);
    cells.ejected.className = b.ejected ? 'bad' : 'muted';
    cells.draining.textContent = yesNo(b.draining);
    cells.draining.className = b.draining ? 'warn' : 'muted';
    cells.weight.textContent = text(b.weight);
    cells.inFlight.textContent = text(b.inFlight);
    cells.rps.textContent = num(b.rps);
    cells.errorRate.textContent = pct(b.errorRate);
    cells.p99Ms.textContent = ms(b.p99Ms);

    // A write is confirmed by a snapshot that shows it (workers apply it a moment later), or given up after 5 s.
    const id = `${service}\n${b.key}`;
    const p = pending.get(id);
    if (p !== undefined && (b.draining === p.want || Date.now() > p.until)) pending.delete(id);
    const still = pending.get(id);
    const draining = still === undefined ? b.draining === true : still.want;
    row.button.dataset.action = draining ? 'undrain' : 'drain';
    row.button.textContent = still !== undefined ? (still.want ? 'Draining…' : 'Undraining…') : draining ? 'Undrain' : 'Drain';
    row.button.disabled = still !== undefined;
    row.button.title = draining ? 'send new requests to this backend again' : 'stop sending new requests to this backend';
  }

  /* ---------- listeners, routes, errors, fleet, config ---------- */

  let nodeView = null; // the node-wide charts: { charts, history, lastT }

  function renderTraffic(tv, t) {
    if (nodeView === null) {
      const box = $('node-charts');
      box.replaceChildren();
      const history = seededRing('node', 4);
      nodeView = {
        history, lastT: undefined,
        charts: {
          conns: chart(box, 'Open connections', [{ label: 'open', stroke: '#0891b2', fill: 'rgba(8,145,178,0.08)' }], num, 1),
          accepted: chart(box, 'New connections / s', [{ label: 'new', stroke: '#2563eb' }], num, 1),
          tls: chart(box, 'TLS handshakes / s', [{ label: 'handshakes', stroke: '#7c3aed' }], num, 1),
        },
      };
      nodeView.resize = new ResizeObserver(() => {
        for (const c of Object.values(nodeView?.charts ?? {})) {
          const w = c.root.parentElement.clientWidth;
          if (w > 0 && w !== c.width) c.setSize({ width: w, height: CHART_HEIGHT });
        }
      });
      nodeView.resize.observe(box);
      const cols = history.columns();
      if (cols[0].length > 0) nodeView.lastT = cols[0][cols[0].length - 1];
      drawNode(cols);
    }
    if (tv === null) return;
    const sum = (f) => tv.listeners.reduce((a, l) => a + (f(l) ?? 0), 0);
    if (nodeView.lastT === undefined || t - nodeView.lastT >= 0.5) {
      if (nodeView.lastT !== undefined && t - nodeView.lastT > 3) nodeView.history.push([nodeView.lastT + 1, null, null, null]);
      nodeView.lastT = t;
      nodeView.history.push([t, sum((l) => l.active), sum((l) => l.acceptedPerS), (tv.tls?.fullPerS ?? 0) + (tv.tls?.resumedPerS ?? 0)]);
      drawNode(nodeView.history.columns());
    }
    const rows = tv.listeners.map((l) => ({
      listener: l.name, address: l.address, protocol: l.protocol, open: l.active, 'new/s': l.acceptedPerS,
      'in/s': bytes(l.bytesInPerS), 'out/s': bytes(l.bytesOutPerS),
      'proxy answers': Object.entries(l.proxyAnswers ?? {}).map(([k, n]) => `${k} ${n}`).join(', ') || '–',
    }));
    replaceTable('listeners-body', rows, 'listeners', `no listeners`);
    const tls = tv.tls ?? {};
    $('tls').textContent = `TLS handshakes over the last ${num(tv.windowS)} s: ${num(tls.fullPerS)} full/s, ${num(tls.resumedPerS)} resumed/s`
      + (typeof tls.resumption === 'number' ? ` · resumption ${pct(tls.resumption)}` : '');
  }

  function drawNode([ts, conns, accepted, tls]) {
    nodeView.charts.conns.setData([ts, conns]);
    nodeView.charts.accepted.setData([ts, accepted]);
    nodeView.charts.tls.setData([ts, tls]);
  }

  function renderRoutes(routes) {
    replaceTable('routes-body', routes.map((r) => ({ route: r.name, match: r.match, service: r.service, listeners: r.listeners, rps: r.rps })), 'routes', 'no routes');
  }

  function renderErrors(tv) {
    if (tv === null) return;
    const rows = (tv.errors ?? []).map((e) => {
      const st = e.byStatus ?? {};
      const causes = Object.entries(e.causes ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
      const codes = Object.entries(e.codes ?? {}).map(([k, n]) => `${k}×${n}`).join(' ');
      return { service: e.service, [`codes (last ${num(tv.windowS)} s)`]: codes || '–', '2xx/s': st['2xx'], '3xx/s': st['3xx'], '4xx/s': st['4xx'], '5xx/s': st['5xx'], 'failed/s': st.failed, [`causes (last ${num(tv.windowS)} s)`]: causes || '–' };
    });
    replaceTable('errors-body', rows, 'errors', 'no services');
  }

  /** Replaces the table in box `id` (rows' keys as columns), unless the rows are the same as last time. */
  const lastTables = new Map();
  function replaceTable(id, rows, name, empty) {
    const key = JSON.stringify(rows);
    if (lastTables.get(id) === key) return;
    lastTables.set(id, key);
    const box = $(id);
    if (rows.length === 0) { box.replaceChildren(el('p', 'muted', empty)); return; }
    const t = table(rows);
    t.dataset.table = name;
    t.classList.add('wide');
    box.replaceChildren(t);
  }

  let fleetTimer;
  let fleetBusy = false;
  /** In a fleet (the status names a store), the node list from /api/fleet every 5 s. */
  function renderFleet(status) {
    const inFleet = status.store !== undefined && status.store !== null;
    $('fleet').hidden = !inFleet;
    if (!inFleet || fleetTimer !== undefined) return;
    const poll = async () => {
      if (fleetBusy) return;
      fleetBusy = true;
      try {
        const r = await api('/api/fleet');
        const nodes = Array.isArray(r.body?.nodes) ? r.body.nodes : [];
        replaceTable('fleet-body', nodes.map((n) => ({
          node: n.id, zone: n.zone, roles: (n.roles ?? []).join(','), version: n.version, config: n.configVersion === undefined ? '–' : `v${n.configVersion}`,
          'cpu %': n.load?.cpuPercent, 'mem MiB': n.load?.rssMiB, connections: n.load?.connections, 'p99 ms': n.load?.p99Ms,
          anycast: n.anycast?.state ?? '–', updated: n.updatedAt ? new Date(n.updatedAt).toLocaleTimeString([], { hour12: false }) : '–',
        })), 'fleet', 'no nodes registered');
      } catch { /* the next poll tries again */ } finally { fleetBusy = false; }
    };
    void poll();
    fleetTimer = setInterval(poll, 5000);
  }

  let versionsFor;
  /** Refreshes the version pickers when the applied config version changes: from = the one before, to = the newest. */
  async function renderConfigVersions(version) {
    if (version === undefined || version === versionsFor) return;
    versionsFor = version;
    let list = [];
    try { list = (await api('/api/config/versions')).body?.versions ?? []; } catch { versionsFor = undefined; return; }
    for (const [id, pick] of [['diff-from', list.length - 2], ['diff-to', list.length - 1]]) {
      const sel = $(id);
      sel.replaceChildren(...list.map((v) => { const o = el('option', null, `v${v.version} · ${new Date(v.appliedAt).toLocaleTimeString([], { hour12: false })}`); o.value = String(v.version); return o; }));
      if (list.length > 0) sel.selectedIndex = Math.max(0, pick);
    }
  }

  /** Shows `text` in the config box; a diff's added and removed lines are coloured. */
  function showConfig(textOut, isDiff) {
    const out = $('config-out');
    out.className = 'config-out';
    if (!isDiff) { out.textContent = textOut; return; }
    out.replaceChildren(...textOut.split('\n').map((line) => {
      const cls = line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : null;
      return el('span', cls, `${line}\n`);
    }));
  }

  $('diff-show').addEventListener('click', async () => {
    const from = $('diff-from').value;
    const to = $('diff-to').value;
    if (from === '' || to === '') return;
    try {
      const r = await api(`/api/config/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      if (!r.ok) { showConfig(r.body?.error ?? `HTTP ${r.status}`, false); return; }
      showConfig(from === to || !/^[+-](?![+-]{2})/m.test(r.body.diff) ? `v${from} and v${to} are the same` : r.body.diff, true);
    } catch (e) {
      if (!(e instanceof Unauthorized)) showConfig(`diff failed: ${e.message}`, false);
    }
  });

  $('config-show').addEventListener('click', async () => {
    try {
      const r = await api('/api/config');
      showConfig(JSON.stringify(r.body, null, 2), false);
    } catch (e) {
      if (!(e instanceof Unauthorized)) showConfig(`failed: ${e.message}`, false);
    }
  });

  /* ---------- signals ---------- */

  let lastSignals = '';

  function renderSignals(signals) {
    const hotspots = Array.isArray(signals.hotspots) ? signals.hotspots.filter((h) => h !== null && typeof h === 'object') : [];
    const scaling = signals.scaling !== null && typeof signals.scaling === 'object' ? signals.scaling : null;
    const spikes = signals.spikes !== null && typeof signals.spikes === 'object' && Array.isArray(signals.spikes.active)
      ? signals.spikes.active.filter((s) => s !== null && typeof s === 'object') : [];
    const key = JSON.stringify([hotspots, scaling, spikes]);
    if (key === lastSignals) return; // unchanged: keep the DOM (and any text selection) as it is
    lastSignals = key;
    const body = $('signals-body');
    $('signals').classList.toggle('alert', hotspots.length > 0 || spikes.length > 0);
    if (hotspots.length === 0 && scaling === null && spikes.length === 0) { body.className = 'muted'; body.replaceChildren('no signals'); return; }
    body.className = '';
    const parts = [];
    if (spikes.length > 0) {
      parts.push(el('h3', null, `Traffic spikes (${spikes.length})`));
      const mitigated = signals.spikes.mitigations !== null && typeof signals.spikes.mitigations === 'object' ? signals.spikes.mitigations : {};
      const rows = spikes.map((s) => ({ spike: text(s.text), since: typeof s.since === 'number' ? new Date(s.since).toLocaleTimeString() : text(s.since),
        blocked: s.kind === 'route' && Array.isArray(mitigated[s.key]) ? mitigated[s.key].join(', ') : '–' }));
      parts.push(table(rows, ['spike', 'since', 'blocked']));
    }
    if (hotspots.length > 0) {
      parts.push(el('h3', null, `Hot spots (${hotspots.length})`));
      const rows = hotspots.map((h) => ({ service: h.service, backend: h.backend, cause: h.cause, since: h.since, detail: hotspotDetail(h) }));
      parts.push(table(rows, ['service', 'backend', 'cause', 'since', 'detail']));
    }
    if (scaling !== null) {
      parts.push(el('h3', null, 'Auto-scaling'));
      const scalars = Object.entries(scaling).filter(([, x]) => x === null || typeof x !== 'object');
      if (scalars.length > 0) parts.push(el('p', 'kv', scalars.map(([k, x]) => `${k}: ${cellText(k, x)}`).join('  ·  ')));
      for (const name of ['triggers', 'state']) {
        const rows = entries(scaling[name]);
        if (rows.length > 0) { parts.push(el('h4', null, name)); parts.push(table(rows)); }
      }
      const decisions = Array.isArray(scaling.decisions) ? scaling.decisions.slice(-10).reverse() : [];
      parts.push(el('h4', null, 'decisions'));
      parts.push(decisions.length > 0 ? table(decisions.map((d) => (d !== null && typeof d === 'object' ? d : { decision: d }))) : el('p', 'muted', 'none yet'));
    }
    body.replaceChildren(...parts);
  }

  /** The detail of a hot spot as one line, whatever its shape. */
  function hotspotDetail(h) {
    const out = [];
    if (typeof h.share === 'number') out.push(`share ${pct(h.share)}${typeof h.expectedShare === 'number' ? ` (expected ${pct(h.expectedShare)})` : ''}`);
    if (h.detail !== undefined) out.push(typeof h.detail === 'object' && h.detail !== null ? flat(h.detail) : text(h.detail));
    if (h.suggestedMitigation) out.push(`suggest ${h.suggestedMitigation}`);
    return out.join(' · ') || '–';
  }

  /** Rows from an array of objects, or from an object of name → value (or name → object). */
  function entries(x) {
    if (Array.isArray(x)) return x.map((r) => (r !== null && typeof r === 'object' ? r : { value: r }));
    if (x === null || typeof x !== 'object') return [];
    return Object.entries(x).map(([name, r]) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? { name, ...r } : { name, value: r }));
  }

  /** A table with the union of the rows' keys as columns (or `cols`). */
  function table(rows, cols) {
    const keys = cols ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const t = el('table', 'plain');
    const hr = el('tr');
    for (const k of keys) hr.append(el('th', null, k));
    const head = el('thead');
    head.append(hr);
    const body = el('tbody');
    for (const r of rows) {
      const tr = el('tr');
      for (const k of keys) tr.append(el('td', null, cellText(k, r[k])));
      body.append(tr);
    }
    t.append(head, body);
    return t;
  }

  /* ---------- actions ---------- */

  async function toggleDrain(service, backend, action) {
    if (action !== 'drain' && action !== 'undrain') return;
    const id = `${service}\n${backend}`;
    pending.set(id, { want: action === 'drain', until: Date.now() + 5000 });
    refreshButton(service, backend);
    try {
      const r = await api(`/api/backends/${encodeURIComponent(service)}/${encodeURIComponent(backend)}/${action}`, { method: 'POST' });
      if (!r.ok) {
        pending.delete(id);
        notify('error', `${action} ${service}/${backend} failed: ${r.body?.error ?? `HTTP ${r.status}`}`);
      } else {
        notify('ok', `${action === 'drain' ? 'draining' : 'undrained'} ${service}/${backend}`);
      }
    } catch (e) {
      pending.delete(id);
      if (!(e instanceof Unauthorized)) notify('error', `${action} ${service}/${backend} failed: ${e.message}`);
    }
    refreshButton(service, backend);
  }

  function refreshButton(service, backend) {
    const row = views.get(service)?.rows.get(backend);
    const p = pending.get(`${service}\n${backend}`);
    if (row === undefined) return;
    row.button.disabled = p !== undefined;
    if (p !== undefined) row.button.textContent = p.want ? 'Draining…' : 'Undraining…';
    else row.button.textContent = row.button.dataset.action === 'undrain' ? 'Undrain' : 'Drain';
  }

  $('reload').addEventListener('click', async () => {
    const button = $('reload');
    button.disabled = true;
    notify('info', 'reloading the config…');
    try {
      const r = await api('/api/reload', { method: 'POST' });
      const b = r.body ?? {};
      const errors = Array.isArray(b.errors) && b.errors.length > 0 ? `: ${b.errors.join('; ')}` : '';
      notify(r.ok ? 'ok' : 'error', `reload ${text(b.result ?? `HTTP ${r.status}`)} · config v${text(b.version)}${errors}`, !r.ok);
    } catch (e) {
      if (!(e instanceof Unauthorized)) notify('error', `reload failed: ${e.message}`, true);
    } finally {
      button.disabled = false;
    }
  });

  let noticeTimer;
  /** Shows one message under the header; errors stay until the next message. */
  function notify(kind, message, sticky = false) {
    const n = $('notice');
    n.textContent = message;
    n.className = `notice notice-${kind}`;
    n.hidden = false;
    clearTimeout(noticeTimer);
    if (!sticky && kind !== 'info') noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
  }

  /* ---------- small helpers ---------- */

  function el(tag, cls, content) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (content !== undefined) e.textContent = content;
    return e;
  }
  function text(x) { return x === undefined || x === null || x === '' ? '–' : String(x); }
  /** 3 significant digits at most, no trailing zeros: 1234, 65.2, 1.66, 0.05. */
  function num(x) { return typeof x === 'number' ? String(Number(x.toFixed(Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2))) : '–'; }
  function clock(t) { return typeof t === 'number' ? new Date(t * 1000).toLocaleTimeString([], { hour12: false }) : '–'; }
  function bytes(x) { return typeof x !== 'number' ? '–' : x >= 1048576 ? `${num(x / 1048576)} MiB` : x >= 1024 ? `${num(x / 1024)} KiB` : `${num(x)} B`; }
  function pct(x) { return typeof x === 'number' ? `${num(x * 100)}%` : '–'; }
  function ms(x) { return typeof x === 'number' ? `${num(x)} ms` : '–'; }
  function yesNo(x) { return x === true ? 'yes' : x === false ? 'no' : '–'; }
  function duration(s) {
    const d = Math.floor(s / 86400); const h = Math.floor((s % 86400) / 3600); const m = Math.floor((s % 3600) / 60); const sec = Math.floor(s % 60);
    return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
  }
  function storeText(st) {
    if (st === undefined || st === null) return '–';
    if (typeof st !== 'object') return String(st);
    return [st.url, st.version !== undefined ? `v${st.version}` : undefined, st.fromCache ? '(from cache)' : undefined].filter(Boolean).join(' ') || flat(st);
  }
  /** An object as "k=v, k=v" (nested values as JSON). */
  function flat(o) {
    return Object.entries(o).map(([k, x]) => `${k}=${x !== null && typeof x === 'object' ? JSON.stringify(x) : x}`).join(', ');
  }
  /** A table cell: epoch-millisecond times as clock times, objects flattened. */
  function cellText(key, x) {
    if (typeof x === 'number' && x > 1e12 && /^(at|since|raisedAt|time|until)$/i.test(key)) return new Date(x).toLocaleTimeString();
    if (x !== null && typeof x === 'object') return Array.isArray(x) ? x.map((y) => (typeof y === 'object' ? JSON.stringify(y) : y)).join(', ') : flat(x);
    if (typeof x === 'number') return Number.isInteger(x) ? String(x) : num(x);
    return text(x);
  }

  void connect();
})();
