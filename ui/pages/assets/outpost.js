// outpost.js draws the charts of outpost's pages. Each chart is an element
// with class "chart" whose data-option attribute holds echarts options as
// JSON (built on the server by go-echarts) and whose data-unit says how to
// format values. Nothing here talks to any host but the page's own.
"use strict";
(function () {
  function fmtUnit(unit) {
    var k = ["", "K", "M", "G", "T", "P"];
    function scaled(v, base, suffix) {
      var a = Math.abs(v), i = 0;
      while (a >= base && i < k.length - 1) { a /= base; v /= base; i++; }
      return (Math.round(v * 100) / 100) + " " + k[i] + suffix;
    }
    switch (unit) {
      case "percent": return function (v) { return (Math.round(v * 100) / 100) + "%"; };
      case "bytes": return function (v) { return scaled(v, 1024, "B").replace("KB", "KiB").replace("MB", "MiB").replace("GB", "GiB").replace("TB", "TiB"); };
      case "bytes/s": return function (v) { return scaled(v, 1024, "B/s"); };
      case "bits/s": return function (v) { return scaled(v, 1000, "b/s"); };
      case "s": return function (v) { return v < 1 ? Math.round(v * 1e5) / 100 + " ms" : scaled(v, 1e99, "s"); };
      case "short": return function (v) { return scaled(v, 1000, ""); };
      case "ops/s": return function (v) { return scaled(v, 1000, "ops/s"); };
      case "/s": return function (v) { return scaled(v, 1000, "/s"); };
      default: return null;
    }
  }

  // State timelines (chart_state.go): a custom series whose renderItem is
  // named "outpost:state"; each item is [row, start ms, end ms] and its
  // name is the state.
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function stateBar(data) {
    return function (params, api) {
      var row = api.value(0), a = api.coord([api.value(1), row]), b = api.coord([api.value(2), row]);
      var h = api.size([0, 1])[1] * 0.7, cs = params.coordSys;
      var r = echarts.graphic.clipRectByRect({ x: a[0], y: a[1] - h / 2, width: Math.max(b[0] - a[0], 1), height: h },
        { x: cs.x, y: cs.y, width: cs.width, height: cs.height });
      if (!r) return null;
      var out = { type: "rect", shape: r, style: api.style() };
      if (r.width > 48) {
        out.textContent = { style: { text: data[params.dataIndex].name, fill: "#fff", fontSize: 11, width: r.width - 6, overflow: "truncate" } };
        out.textConfig = { position: "inside" };
      }
      return out;
    };
  }
  function stateOption(option) {
    var rows = ([].concat(option.yAxis || [])[0] || {}).data || [];
    [].concat(option.series || []).forEach(function (s) {
      if (s.renderItem !== "outpost:state") return;
      s.renderItem = stateBar(s.data || []);
      option.tooltip = Object.assign({}, option.tooltip, { formatter: function (p) {
        var v = p.value, t = function (ms) { return new Date(ms).toLocaleString(); };
        return esc(rows[v[0]]) + "<br>" + p.marker + esc(p.name) + "<br>" + esc(t(v[1]) + " – " + t(v[2]));
      } });
      [].concat(option.yAxis || []).forEach(function (y) { y.axisLabel = Object.assign({}, y.axisLabel, { width: 200, overflow: "truncate" }); });
    });
  }

  function draw(el) {
    var msg = el.querySelector(".chart-msg");
    if (typeof echarts === "undefined") {
      if (msg) msg.textContent = "Charts need the echarts script, which this binary was built without: run `make assets`, then `make build`.";
      return;
    }
    var option;
    try { option = JSON.parse(el.getAttribute("data-option")); } catch (e) {
      if (msg) msg.textContent = "chart options unreadable: " + e;
      return;
    }
    stateOption(option);
    // Time labels never overlap on a narrow chart; threshold lines say
    // their name inside the chart, where no grid margin clips it.
    [].concat(option.xAxis || []).forEach(function (x) {
      if (x.type === "time") x.axisLabel = Object.assign({ hideOverlap: true }, x.axisLabel);
    });
    [].concat(option.series || []).forEach(function (s) {
      if (s.markLine) s.markLine.label = Object.assign({ position: "insideEndTop", formatter: "{b}" }, s.markLine.label);
    });
    var height = el.getAttribute("data-height");
    if (height) el.style.height = height + "px";
    var f = fmtUnit(el.getAttribute("data-unit"));
    if (f) {
      [].concat(option.yAxis || []).forEach(function (y) { y.axisLabel = Object.assign({}, y.axisLabel, { formatter: f }); });
      option.tooltip = Object.assign({}, option.tooltip, { valueFormatter: f });
    }
    if (msg) msg.remove();
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function init() {
    document.querySelectorAll(".chart[data-option]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
