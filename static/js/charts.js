/* Renders the Plotly figures of the timeline and analytics pages.
 *
 * The figures arrive as JSON in <script type="application/json" id="chart-data"> (json_script),
 * never as inline code, so a strict Content-Security-Policy (script-src 'self') holds.
 * Charts marked data-sync-x share one time axis: zooming or panning one applies to all.
 * Buttons [data-log-toggle=<chart id>] switch that chart's y axes between linear and log.
 */
(function () {
  "use strict";

  var CONFIG = {
    responsive: true,
    displaylogo: false,
    scrollZoom: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "toImage"]
  };

  function readFigures() {
    var node = document.getElementById("chart-data");
    if (!node) { return []; }
    try {
      return JSON.parse(node.textContent) || [];
    } catch (err) {
      return [];
    }
  }

  function yAxisKeys(layout) {
    return Object.keys(layout).filter(function (key) { return /^yaxis\d*$/.test(key); });
  }

  function syncX(charts) {
    var syncing = false;
    charts.forEach(function (source) {
      source.on("plotly_relayout", function (event) {
        if (syncing) { return; }
        var update = {};
        if (event["xaxis.autorange"]) {
          update["xaxis.autorange"] = true;
        } else if (event["xaxis.range[0]"] !== undefined) {
          update["xaxis.range"] = [event["xaxis.range[0]"], event["xaxis.range[1]"]];
        } else if (event["xaxis.range"]) {
          update["xaxis.range"] = event["xaxis.range"];
        } else {
          return;
        }
        syncing = true;
        var pending = charts.filter(function (c) { return c !== source; })
          .map(function (c) { return window.Plotly.relayout(c, update); });
        Promise.all(pending).then(function () { syncing = false; }, function () { syncing = false; });
      });
    });
  }

  function bindLogToggles() {
    var buttons = document.querySelectorAll("[data-log-toggle]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener("click", function () {
        var chart = document.getElementById(button.getAttribute("data-log-toggle"));
        if (!chart || !chart.layout) { return; }
        var toLog = button.getAttribute("aria-pressed") !== "true";
        var update = {};
        yAxisKeys(chart.layout).forEach(function (key) {
          update[key + ".type"] = toLog ? "log" : "linear";
          update[key + ".autorange"] = true;
        });
        window.Plotly.relayout(chart, update);
        button.setAttribute("aria-pressed", toLog ? "true" : "false");
        button.textContent = toLog ? "Linear scale" : "Logarithmic scale";
      });
    });
  }

  function render() {
    if (!window.Plotly) {
      Array.prototype.forEach.call(document.querySelectorAll(".chart"), function (el) {
        el.textContent = "Charts could not be loaded (plotly.min.js missing). The summaries above still apply.";
      });
      return;
    }
    var synced = [];
    var jobs = readFigures().map(function (item) {
      var el = document.getElementById(item.id);
      if (!el) { return Promise.resolve(); }
      return window.Plotly.newPlot(el, item.figure.data, item.figure.layout, CONFIG).then(function (gd) {
        if (el.hasAttribute("data-sync-x")) { synced.push(gd); }
        return gd;
      });
    });
    Promise.all(jobs).then(function () {
      if (synced.length > 1) { syncX(synced); }
      document.documentElement.setAttribute("data-charts-ready", "1");
    });
    bindLogToggles();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
