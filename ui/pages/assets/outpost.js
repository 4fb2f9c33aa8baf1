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
      default: return null;
    }
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
