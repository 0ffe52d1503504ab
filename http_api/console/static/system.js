// The system page's live charts: poll the metrics route, keep a rolling window in the page and
// draw requests per second, request latency and the task queue with uPlot.
(function () {
  "use strict";
  var root = document.getElementById("system-charts");
  if (!root || typeof window.uPlot === "undefined") return;
  var url = root.getAttribute("data-metrics-url");
  var interval = parseInt(root.getAttribute("data-interval-ms"), 10) || 2000;
  var KEEP = Math.round(300000 / interval); // five minutes of points
  var state = document.getElementById("charts-state");
  var previous = null;
  var samples = 0;
  var data = {
    requests: [[], [], [], []], // time, all, API, 5xx
    latency: [[], [], [], []],  // time, mean, p50, p95
    queue: [[], [], []]         // time, pending, running
  };
  var charts = {};
  var SPECS = {
    requests: {id: "chart-requests", labels: ["all", "API", "5xx"],
               colors: ["#2457c5", "#067647", "#b42318"], unit: "req/s"},
    latency: {id: "chart-latency", labels: ["mean", "p50", "p95"],
              colors: ["#667085", "#2457c5", "#b54708"], unit: "ms"},
    queue: {id: "chart-queue", labels: ["pending", "running"],
            colors: ["#b54708", "#2457c5"], unit: "tasks"}
  };

  function bucketCounts(buckets) {
    var counts = {};
    buckets.forEach(function (b) { counts[b[0] === null ? "inf" : String(b[0])] = b[1]; });
    return counts;
  }

  // The q-quantile (ms) of the requests observed between two polls, interpolated within the
  // histogram bucket it falls in.
  function quantile(before, now, q) {
    var old = bucketCounts(before);
    var deltas = now.map(function (b) {
      return [b[0], b[1] - (old[b[0] === null ? "inf" : String(b[0])] || 0)];
    });
    var total = deltas.length ? deltas[deltas.length - 1][1] : 0;
    if (total <= 0) return null;
    var rank = q * total;
    var lower = 0;
    var below = 0;
    for (var i = 0; i < deltas.length; i++) {
      var bound = deltas[i][0];
      var count = deltas[i][1];
      if (count >= rank) {
        if (bound === null) return lower * 1000;
        var inside = count - below;
        var fraction = inside > 0 ? (rank - below) / inside : 1;
        return (lower + (bound - lower) * fraction) * 1000;
      }
      if (bound !== null) lower = bound;
      below = count;
    }
    return null;
  }

  function push(series, values) {
    series.forEach(function (column, i) {
      column.push(values[i]);
      if (column.length > KEEP) column.shift();
    });
  }

  function record(now) {
    if (previous !== null) {
      var seconds = Math.max(now.time - previous.time, 0.001);
      var rate = function (key) {
        return Math.max(now.requests[key] - previous.requests[key], 0) / seconds;
      };
      var calls = now.latency.count - previous.latency.count;
      var mean = calls > 0 ? (now.latency.sum - previous.latency.sum) / calls * 1000 : null;
      var buckets = [previous.latency.buckets, now.latency.buckets];
      push(data.requests, [now.time, rate("total"), rate("api"), rate("errors")]);
      push(data.latency, [now.time, mean, quantile(buckets[0], buckets[1], 0.5),
                          quantile(buckets[0], buckets[1], 0.95)]);
    }
    push(data.queue, [now.time, now.queue.pending || 0, now.queue.running || 0]);
    previous = now;
    samples += 1;
    root.setAttribute("data-samples", String(samples));
  }

  function range(u, min, max) {
    return [0, max > 0 ? max * 1.15 : 1];
  }

  function build(name) {
    var spec = SPECS[name];
    var element = document.getElementById(spec.id);
    var series = [{}].concat(spec.labels.map(function (label, i) {
      return {label: label, stroke: spec.colors[i], width: 2, spanGaps: true,
              value: function (u, v) { return v == null ? "–" : v.toFixed(2) + " " + spec.unit; }};
    }));
    var options = {
      width: Math.max(element.clientWidth, 240), height: 190, series: series,
      scales: {x: {time: true}, y: {range: range}},
      axes: [{}, {size: 56}]
    };
    return new window.uPlot(options, data[name], element);
  }

  function draw() {
    if (data.requests[0].length === 0) return;
    Object.keys(SPECS).forEach(function (name) {
      if (charts[name]) charts[name].setData(data[name]);
      else charts[name] = build(name);
    });
    if (state) state.textContent = "(live)";
  }

  function poll() {
    if (document.hidden) { window.setTimeout(poll, interval); return; }
    fetch(url, {credentials: "same-origin", cache: "no-store",
                headers: {"Accept": "application/json"}})
      .then(function (response) {
        var type = response.headers.get("content-type") || "";
        if (type.indexOf("json") < 0) { window.location.reload(); return null; } // signed out
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (now) {
        if (now === null) return;
        record(now);
        draw();
        window.setTimeout(poll, interval);
      })
      .catch(function () {
        if (state) state.textContent = "(metrics unavailable, retrying)";
        window.setTimeout(poll, interval * 2);
      });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (name) {
      var element = document.getElementById(SPECS[name].id);
      charts[name].setSize({width: Math.max(element.clientWidth, 240), height: 190});
    });
  });
  poll();
})();
