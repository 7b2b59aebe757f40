// creditkit dashboard: draws the usage charts with uPlot. Every chart is a
// <div class="chart" data-chart="{...}"> the server rendered, with one x
// value per day (Unix seconds) and one series per operation. The page runs
// under a strict Content Security Policy, so this file is all the script
// the dashboard has (besides the vendored htmx and uPlot).
(function () {
  "use strict";

  var palette = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#4b5563"];

  // window.creditkitCharts maps a chart's id to its uPlot instance, so that
  // tests (and curious admins) can read the plotted data back.
  var charts = (window.creditkitCharts = window.creditkitCharts || {});

  function width(el) {
    return Math.max(280, Math.floor(el.getBoundingClientRect().width || el.parentNode.clientWidth || 600));
  }

  function draw(el) {
    if (el.dataset.drawn === "1" || typeof uPlot === "undefined") {
      return;
    }
    var spec;
    try {
      spec = JSON.parse(el.dataset.chart);
    } catch (e) {
      el.textContent = "The chart's data could not be read.";
      return;
    }
    var series = [{ label: "Day" }];
    var data = [spec.x];
    spec.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: palette[i % palette.length], width: 2, points: { show: true, size: 5 } });
      data.push(s.values);
    });
    var opts = {
      width: width(el),
      height: 260,
      series: series,
      scales: { x: { time: true } },
      // The days are UTC days, as the server counts them.
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"); },
      axes: [{}, { label: spec.unit, size: 60 }],
      legend: { live: true },
    };
    el.dataset.drawn = "1";
    var old = charts[spec.id];
    if (old) {
      old.destroy();
    }
    charts[spec.id] = new uPlot(opts, data, el);
  }

  function drawAll(root) {
    (root || document).querySelectorAll(".chart[data-chart]").forEach(draw);
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      document.querySelectorAll(".chart[data-chart]").forEach(function (el) {
        var spec = JSON.parse(el.dataset.chart);
        var u = charts[spec.id];
        if (u) {
          u.setSize({ width: width(el), height: 260 });
        }
      });
    }, 150);
  });

  // After an action, htmx swaps in the customer's new balance; move the
  // focus to its message so that keyboard and screen-reader users hear it.
  document.addEventListener("htmx:afterSettle", function (ev) {
    drawAll(ev.target);
    var msg = ev.target.querySelector && ev.target.querySelector(".live-messages .flash");
    if (msg) {
      msg.setAttribute("tabindex", "-1");
      msg.focus();
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
