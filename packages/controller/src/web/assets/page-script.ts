/**
 * The web view's script (/app.js): plain JavaScript, no framework, no build step. It reads the
 * event stream (/api/events), keeps the ban list in a Map and renders only the rows in sight
 * (a virtual table: 100,000 bans cost the DOM about forty rows). Every string from the controller
 * is written with textContent, never as markup: log-derived fields (evidence, user) are hostile.
 * Written without template literals so it can sit in this TypeScript string.
 */
export const APP_JS = String.raw`'use strict';
(function () {
  var ROW_H = 24;
  // bans by address (the latest row of each); the display order is newest first: the bans that
  // arrived live (oldest to newest) reversed, then those of the opening list (newest to oldest)
  var bans = new Map();
  var live = [];
  var older = [];
  var view = [];
  var dirty = true;
  var queued = false;
  var filter = '';
  var role = 'read';
  var csrf = '';
  var pool = [];
  var $ = function (id) { return document.getElementById(id); };
  var scroller = $('scroller'), spacer = $('spacer'), rowsEl = $('rows');

  function when(ms) {
    if (!ms) return 'permanent';
    var d = new Date(ms);
    var p = function (n) { return n < 10 ? '0' + n : String(n); };
    return p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }
  function dur(ms) {
    if (ms < 0) return 'forever';
    var s = Math.round(ms / 1000);
    if (s < 120) return s + 's';
    if (s < 7200) return Math.round(s / 60) + 'm';
    if (s < 172800) return Math.round(s / 3600) + 'h';
    return Math.round(s / 86400) + 'd';
  }
  function say(text, err) {
    var m = $('msg');
    m.textContent = text;
    m.className = err ? 'err' : '';
  }

  function schedule() {
    if (queued) return;
    queued = true;
    requestAnimationFrame(function () { queued = false; render(); });
  }

  function rebuild() {
    view = [];
    var f = filter;
    var keep = function (r) {
      if (bans.get(r[0]) !== r) return false;
      return !f || (r[0] + ' ' + r[1] + ' ' + r[7] + ' ' + r[8]).toLowerCase().indexOf(f) >= 0;
    };
    // rows lifted or replaced are dropped here, and from the arrays once they hold many of them
    var i, r;
    for (i = live.length - 1; i >= 0; i--) { r = live[i]; if (keep(r)) view.push(r); }
    for (i = 0; i < older.length; i++) { r = older[i]; if (keep(r)) view.push(r); }
    if (live.length + older.length > 2 * bans.size + 1000) {
      live = live.filter(function (x) { return bans.get(x[0]) === x; });
      older = older.filter(function (x) { return bans.get(x[0]) === x; });
    }
    dirty = false;
    $('shown').textContent = f ? '(' + view.length + ' of ' + bans.size + ')' : '(' + bans.size + ')';
  }

  function makeRow() {
    var row = document.createElement('div');
    row.className = 'row';
    for (var i = 0; i < 10; i++) row.appendChild(document.createElement('span'));
    if (role === 'admin') {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'unban';
      b.textContent = 'Unban';
      row.appendChild(b);
    }
    rowsEl.appendChild(row);
    return row;
  }

  function render() {
    if (dirty) rebuild();
    spacer.style.height = (view.length * ROW_H) + 'px';
    var first = Math.floor(scroller.scrollTop / ROW_H);
    var count = Math.ceil(scroller.clientHeight / ROW_H) + 2;
    while (pool.length < count) pool.push(makeRow());
    for (var i = 0; i < pool.length; i++) {
      var row = pool[i], r = view[first + i];
      if (i >= count || !r) { row.hidden = true; continue; }
      row.hidden = false;
      row.style.top = ((first + i) * ROW_H) + 'px';
      row.dataset.ip = r[0];
      var c = row.children;
      c[0].textContent = r[0];
      c[1].textContent = r[1];
      c[2].textContent = r[2];
      c[3].textContent = when(r[3]);
      c[4].textContent = when(r[4]);
      c[5].textContent = String(r[5]);
      c[6].textContent = String(r[6]);
      c[7].textContent = r[7];
      c[8].textContent = r[8];
      c[9].textContent = r[9];
      c[9].title = r[9];
    }
    if (view.length > 0 && !performance.getEntriesByName('fleetban:rows').length) performance.mark('fleetban:rows');
  }

  function fillTable(id, rows) {
    var body = $(id).tBodies[0];
    var out = document.createDocumentFragment();
    rows.forEach(function (cells) {
      var tr = document.createElement('tr');
      cells.forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = String(v);
        tr.appendChild(td);
      });
      out.appendChild(tr);
    });
    body.replaceChildren(out);
  }

  var SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  function drawChart(series, nowMs) {
    var chart = $('chart');
    var W = 600, H = 120, N = 60, pad = 14;
    var end = nowMs - (nowMs % 60000);
    var fails = new Array(N).fill(0), bansPer = new Array(N).fill(0);
    series.forEach(function (p) {
      var i = N - 1 - Math.round((end - p.minuteMs) / 60000);
      if (i >= 0 && i < N) { fails[i] = p.failures; bansPer[i] = p.bans; }
    });
    var max = Math.max(1, Math.max.apply(null, fails), Math.max.apply(null, bansPer));
    var x = function (i) { return (i + 0.5) * W / N; };
    var y = function (v) { return H - pad - (H - 2 * pad) * v / max; };
    var parts = [svg('line', { x1: 0, y1: H - pad, x2: W, y2: H - pad, stroke: '#bbb' })];
    bansPer.forEach(function (v, i) {
      if (v > 0) parts.push(svg('rect', { x: x(i) - 3, y: y(v), width: 6, height: H - pad - y(v), fill: '#c62828' }));
    });
    parts.push(svg('polyline', { points: fails.map(function (v, i) { return x(i).toFixed(1) + ',' + y(v).toFixed(1); }).join(' '), fill: 'none', stroke: '#1565c0', 'stroke-width': 1.5 }));
    $('chart-max').textContent = 'top of the chart: ' + max + '/min';
    chart.replaceChildren.apply(chart, parts);
  }

  function showSummary(s) {
    $('active-bans').textContent = String(s.activeBans);
    $('host-count').textContent = String(s.hosts.length);
    fillTable('jails', s.jails.map(function (j) {
      return [j.name || 'DEFAULT', j.currentlyFailed, j.totalFailed, j.currentlyBanned, j.totalBanned, j.maxretry, dur(j.findtimeMs), dur(j.bantimeMs)];
    }));
    fillTable('hosts', s.hosts.map(function (h) {
      return [h.host, Math.round(h.heartbeatAgeMs / 1000) + 's ago', h.version || '-', h.backend || '-', h.enforced + '/' + s.activeBans, h.drift, h.fallback ? 'fallback' : 'controller', h.localBans];
    }));
    fillTable('top-addresses', s.topAddresses.map(function (a) { return [a.ip, a.jail, a.banCount, a.failures]; }));
    fillTable('top-prefixes', s.topPrefixes.map(function (p) { return [p.prefix, p.bans]; }));
    drawChart(s.series, s.nowMs);
  }

  function post(path, body) {
    return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Fleetban-Csrf': csrf }, body: JSON.stringify(body), credentials: 'same-origin' })
      .then(function (r) { return r.json().then(function (j) { return { status: r.status, body: j }; }); });
  }

  function connect() {
    performance.mark('fleetban:connect');
    var es = new EventSource('/api/events');
    var link = $('link');
    es.onopen = function () { performance.mark('fleetban:open'); link.textContent = 'live'; link.className = 'badge live'; };
    es.onerror = function () { link.textContent = 'reconnecting'; link.className = 'badge down'; };
    es.addEventListener('reset', function () { bans.clear(); live = []; older = []; dirty = true; schedule(); });
    var apply = function (into) {
      return function (e) {
        var d = JSON.parse(e.data);
        if (!performance.getEntriesByName('fleetban:bans').length) performance.mark('fleetban:bans');
        d.added.forEach(function (r) { bans.set(r[0], r); into().push(r); });
        d.removed.forEach(function (ip) { bans.delete(ip); });
        dirty = true;
        // the first rows are drawn at once; later changes wait for the next frame
        if (view.length === 0) render();
        else schedule();
      };
    };
    es.addEventListener('older', apply(function () { return older; }));
    es.addEventListener('bans', apply(function () { return live; }));
    es.addEventListener('summary', function (e) { showSummary(JSON.parse(e.data)); });
  }

  scroller.addEventListener('scroll', schedule, { passive: true });
  window.addEventListener('resize', schedule);
  $('filter').addEventListener('input', function (e) { filter = e.target.value.trim().toLowerCase(); dirty = true; schedule(); });
  rowsEl.addEventListener('click', function (e) {
    var b = e.target;
    if (!(b instanceof HTMLButtonElement) || !b.classList.contains('unban') || role !== 'admin') return;
    var ip = b.parentElement.dataset.ip;
    b.disabled = true;
    post('/api/unban', { ip: ip }).then(function (r) {
      b.disabled = false;
      say(r.status === 200 ? 'unbanned ' + ip : 'unban of ' + ip + ' failed: ' + r.body.error, r.status !== 200);
    }, function () { b.disabled = false; say('unban failed: no answer', true); });
  });
  $('ban-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var ip = $('ban-ip').value.trim(), jail = $('ban-jail').value.trim();
    post('/api/ban', { ip: ip, jail: jail }).then(function (r) {
      say(r.status === 200 ? 'banned ' + ip : 'ban of ' + ip + ' refused: ' + r.body.error, r.status !== 200);
      if (r.status === 200) $('ban-ip').value = '';
    }, function () { say('ban failed: no answer', true); });
  });

  fetch('/api/session', { credentials: 'same-origin' }).then(function (r) {
    if (r.status === 401) { location.assign('/login'); return null; }
    return r.json();
  }).then(function (s) {
    if (!s) return;
    role = s.role;
    csrf = s.csrf;
    $('role').textContent = role === 'admin' ? 'admin' : 'read-only';
    if (role === 'admin') {
      document.body.classList.add('admin');
      // rows drawn before the role was known have no Unban button: make them again
      pool.forEach(function (r) { r.remove(); });
      pool = [];
    } else {
      document.querySelectorAll('.admin-only').forEach(function (e) { e.remove(); });
    }
    schedule();
  });
  // the stream opens at once, beside the session request: it needs only the cookie
  connect();
})();
`;
