// The ingestprobe status board: it asks the agent for api/status every few seconds and draws a
// tile per target. The DOM is built with createElement and textContent only (the page's CSP
// requires Trusted Types), and "12 s ago" is counted on the agent's clock, not the viewer's.
'use strict';
(function () {
  var POLL_MS = 5000;          // a record comes every interval (30 s by default): 5 s is live enough
  var HIDDEN_POLL_MS = 60000;  // while the tab or the phone's screen is hidden
  var FETCH_TIMEOUT_MS = 10000;
  var STALE_AFTER = 3;         // intervals without a record (the agent's status.StaleAfter)
  var HOUR_MS = 3600 * 1000;
  var CELLS = 60;              // the history strip: a cell per minute of the last hour

  var LABEL = { 'go': 'GO', 'warn': 'WARN', 'no-go': 'NO-GO' };
  var SYMBOL = { 'go': '\u2714', 'warn': '!', 'no-go': '\u2718' };
  var RANK = { 'go': 0, 'warn': 1, 'no-go': 2 };

  var doc = null;     // the last document
  var offset = 0;     // the agent's clock minus this one, ms
  var lastOK = 0;     // when the agent last answered, on this clock
  var problem = '';   // why the last poll failed
  var drawnStale = {}; // target name → stale when last drawn
  var timer = 0;

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }

  function agentNow() { return Date.now() + offset; }

  function ago(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return s + ' s ago';
    var m = Math.round(s / 60);
    if (m < 90) return m + ' min ago';
    return Math.round(m / 60) + ' h ago';
  }

  function duration(sec) {
    var ms = sec * 1000;
    if (ms < 1) return ms.toFixed(2) + ' ms';
    if (ms < 100) return ms.toFixed(1) + ' ms';
    if (ms < 1000) return ms.toFixed(0) + ' ms';
    return sec.toFixed(1) + ' s';
  }

  function clock(ms) {
    var d = new Date(ms);
    return ('0' + d.getHours()).slice(-2) + ':' + ('0' + d.getMinutes()).slice(-2);
  }

  function isStale(t) {
    if (!t.interval_seconds) return false;
    if (!t.checked_at) return t.stale;
    return agentNow() - Date.parse(t.checked_at) > STALE_AFTER * t.interval_seconds * 1000;
  }

  function verdictBox(v) {
    var box = el('div', 'verdict v-' + (v || 'none'));
    if (!v) {
      box.textContent = 'WAITING';
      return box;
    }
    var sym = el('span', 'sym', SYMBOL[v] || '?');
    sym.setAttribute('aria-hidden', 'true');
    box.appendChild(sym);
    box.appendChild(document.createTextNode(LABEL[v] || String(v).toUpperCase()));
    return box;
  }

  function findingsList(fs) {
    var ol = el('ol', 'findings');
    fs.forEach(function (f) {
      var li = el('li', 'f-' + f.severity);
      li.appendChild(el('span', 'sev sev-' + f.severity, String(f.severity).toUpperCase()));
      li.appendChild(el('span', 'code', f.code));
      li.appendChild(el('p', 'msg', f.message));
      if (f.remedy) li.appendChild(el('p', 'remedy', f.remedy));
      ol.appendChild(li);
    });
    return ol;
  }

  // history draws the last hour: a strip of minutes coloured (and sized) by the worst verdict in
  // each, and the trend of the ingest port's connect time, with a red mark where it did not connect.
  function history(t) {
    var box = el('div', 'history');
    var now = agentNow(), from = now - HOUR_MS;
    var worst = [];
    var times = [], values = [];
    t.history.forEach(function (p) {
      var at = Date.parse(p.time);
      if (at < from) return;
      var i = Math.min(CELLS - 1, Math.floor((at - from) / (HOUR_MS / CELLS)));
      if (worst[i] === undefined || RANK[p.verdict] > RANK[worst[i]]) worst[i] = p.verdict;
      times.push(at);
      values.push(p.connect_seconds);
    });
    var label = el('div', 'label');
    label.appendChild(el('span', null, 'last hour'));
    label.appendChild(el('span', null, 'now'));
    box.appendChild(label);
    var strip = el('div', 'strip');
    strip.setAttribute('role', 'img');
    var counts = { 'go': 0, 'warn': 0, 'no-go': 0 };
    for (var i = 0; i < CELLS; i++) {
      var v = worst[i];
      var cell = el('span', 'cell' + (v ? ' c-' + v : ''));
      var start = from + i * HOUR_MS / CELLS;
      cell.title = clock(start) + (v ? ' ' + LABEL[v] : ' no run');
      if (v) counts[v]++;
      strip.appendChild(cell);
    }
    strip.setAttribute('aria-label', 'last hour by minute: ' + counts['go'] + ' GO, ' + counts['warn'] + ' WARN, ' + counts['no-go'] + ' NO-GO');
    box.appendChild(strip);

    var ok = values.filter(function (x) { return x !== null && x !== undefined; });
    var W = 600, H = 40, pad = 4;
    var g = svg('svg', { 'class': 'trend', viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img' });
    var lo = Math.min.apply(null, ok.length ? ok : [0]), hi = Math.max.apply(null, ok.length ? ok : [0]);
    var x = function (at) { return ((at - from) / HOUR_MS * W).toFixed(1); };
    var y = function (c) { return (hi === lo ? H / 2 : H - pad - (c - lo) / (hi - lo) * (H - 2 * pad)).toFixed(1); };
    var line = [];
    var flush = function () {
      if (line.length) g.appendChild(svg('polyline', { points: line.join(' ') }));
      line = [];
    };
    for (var j = 0; j < times.length; j++) {
      if (values[j] === null || values[j] === undefined) {
        flush();
        g.appendChild(svg('rect', { 'class': 'miss', x: x(times[j]), y: H - 6, width: 4, height: 6 }));
      } else {
        line.push(x(times[j]) + ',' + y(values[j]));
      }
    }
    flush();
    box.appendChild(g);
    var trend = el('div', 'label');
    trend.appendChild(el('span', null, 'connect to the ingest port'));
    trend.appendChild(el('span', null, ok.length ? duration(lo) + ' – ' + duration(hi) + ' · latest ' + (values[values.length - 1] == null ? 'failed' : duration(values[values.length - 1])) : 'no connect yet'));
    g.setAttribute('aria-label', trend.textContent);
    box.appendChild(trend);
    return box;
  }

  // liveLine is the encoder's own connection during the show (live = true targets).
  function liveLine(l) {
    var d = el('div', 'live');
    var text;
    if (l.error) text = 'live watch not available';
    else if (!l.publishers) text = 'live: no publisher';
    else if (l.figures_unknown) text = 'live: ' + l.processes.join(', ') + ' · figures unknown (see the findings)' +
      (l.reconnects ? ' · ' + l.reconnects + ' reconnects' : '');
    else text = 'live: ' + l.processes.join(', ') + ' · ' + (l.acked_bps / 1e6).toFixed(2) + ' Mbit/s · RTT ' + duration(l.rtt_seconds) +
      ' · ' + (l.retransmit_ratio * 100).toFixed(1) + ' % retransmitted · backlog ' + l.backlog_seconds.toFixed(2) + ' s' +
      (l.reconnects ? ' · ' + l.reconnects + ' reconnects' : '');
    d.appendChild(document.createTextNode(text));
    return d;
  }

  // uplinkLine is the last uplink soak (targets with uplink): what this network sustained against
  // the show's bitrate, and when.
  function uplinkLine(u) {
    var d = el('div', 'uplink' + (u.severity ? ' u-' + u.severity : ''));
    var text = 'uplink: ' + (u.achieved_bps / 1e6).toFixed(1) + ' Mbit/s sustained for a ' + (u.target_bps / 1e6).toFixed(1) +
      ' Mbit/s show over ' + duration(u.duration_seconds);
    if (u.rtt_avg_seconds) text += ' · RTT ' + duration(u.rtt_avg_seconds) + ' · ' + (u.retransmit_ratio * 100).toFixed(1) + ' % retransmitted';
    if (u.severity) text += ' · encoder at most ' + (u.recommended_max_bps / 1e6).toFixed(1) + ' Mbit/s';
    text += ' · ' + ago(agentNow() - Date.parse(u.at));
    d.appendChild(document.createTextNode(text));
    return d;
  }

  function tile(t, stale) {
    var sec = el('section', 'tile t-' + (t.verdict || 'none') + (stale ? ' stale' : ''));
    sec.setAttribute('data-target', t.name);
    sec.appendChild(el('h2', null, t.name));
    sec.appendChild(el('div', 'url', t.url));
    sec.appendChild(verdictBox(t.verdict));
    var when = el('div', 'when');
    if (t.checked_at) {
      when.appendChild(document.createTextNode('checked '));
      var a = el('time', 'ago', ago(agentNow() - Date.parse(t.checked_at)));
      a.setAttribute('datetime', t.checked_at);
      when.appendChild(a);
      if (t.duration_seconds !== null) when.appendChild(document.createTextNode(' · took ' + duration(t.duration_seconds)));
    } else {
      when.appendChild(document.createTextNode('not checked yet'));
    }
    if (stale) {
      when.appendChild(el('span', 'badge', 'STALE'));
      when.appendChild(document.createTextNode(' no result for over ' + STALE_AFTER + ' intervals (' + duration(t.interval_seconds) + ' each): the verdict is old'));
    }
    sec.appendChild(when);
    if (t.live) sec.appendChild(liveLine(t.live));
    if (t.uplink) sec.appendChild(uplinkLine(t.uplink));
    if (t.findings.length) sec.appendChild(findingsList(t.findings));
    sec.appendChild(history(t));
    return sec;
  }

  function render() {
    if (!doc) return;
    $('agent').textContent = doc.agent;
    $('version').textContent = doc.version;
    var main = $('targets');
    while (main.firstChild) main.removeChild(main.firstChild);
    drawnStale = {};
    var worst = null, nogo = 0;
    doc.targets.forEach(function (t) {
      var stale = isStale(t);
      drawnStale[t.name] = stale;
      main.appendChild(tile(t, stale));
      if (t.verdict && (worst === null || RANK[t.verdict] > RANK[worst])) worst = t.verdict;
      if (t.verdict === 'no-go') nogo++;
    });
    if (!doc.targets.length) main.appendChild(el('p', 'note', 'No targets configured.'));
    var overall = $('overall');
    overall.className = 'overall v-' + (worst || 'none');
    overall.textContent = worst ? LABEL[worst] + (nogo ? ' \u2014 ' + nogo + ' of ' + doc.targets.length + ' NO-GO' : '') : 'WAITING';
    document.title = (worst ? LABEL[worst] : '\u2026') + ' \u00b7 ingestprobe ' + doc.agent;
    renderConn();
  }

  function renderConn() {
    var c = $('conn');
    if (problem) {
      c.className = 'conn lost';
      c.textContent = 'agent not answering (' + problem + ')' + (lastOK ? ', last answer ' + ago(Date.now() - lastOK) : '');
    } else {
      c.className = 'conn';
      c.textContent = 'live';
    }
  }

  // tick moves the "ago" texts every second, and redraws when a target turns stale.
  function tick() {
    if (!doc) return;
    var times = document.querySelectorAll('time.ago');
    for (var i = 0; i < times.length; i++) {
      times[i].textContent = ago(agentNow() - Date.parse(times[i].getAttribute('datetime')));
    }
    for (var j = 0; j < doc.targets.length; j++) {
      if (isStale(doc.targets[j]) !== drawnStale[doc.targets[j].name]) {
        render();
        return;
      }
    }
    renderConn();
  }

  function poll() {
    clearTimeout(timer);
    var ctl = window.AbortController ? new AbortController() : null;
    var guard = setTimeout(function () { if (ctl) ctl.abort(); }, FETCH_TIMEOUT_MS);
    fetch('api/status', { cache: 'no-store', credentials: 'same-origin', headers: { 'Accept': 'application/json' }, signal: ctl ? ctl.signal : undefined })
      .then(function (r) {
        if (r.status === 401) throw new Error('not signed in: open the board\u2019s link with ?token=\u2026 again');
        if (!r.ok) throw new Error('HTTP ' + r.status);
        return r.json();
      })
      .then(function (d) {
        doc = d;
        offset = Date.parse(d.generated_at) - Date.now();
        lastOK = Date.now();
        problem = '';
        render();
      }, function (e) {
        problem = (e && e.name === 'AbortError') ? 'no answer' : ((e && e.message) || 'no answer');
        renderConn();
      })
      .then(function () {
        clearTimeout(guard);
        timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
      });
  }

  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  setInterval(tick, 1000);
  poll();
})();
