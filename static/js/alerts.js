// Alert inbox helpers (no inline script: CSP). Keeps "opened … ago" fresh between polls.
(function () {
  "use strict";
  function fmt(seconds) {
    if (seconds < 60) return "opened just now";
    var m = Math.floor(seconds / 60);
    if (m < 60) return "opened " + m + " min ago";
    var h = Math.floor(m / 60);
    return "opened " + h + " h " + (m % 60) + " min ago";
  }
  function refresh() {
    var now = Date.now();
    document.querySelectorAll(".al-age[data-since]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(t)) el.textContent = fmt(Math.max(0, (now - t) / 1000));
    });
  }
  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSwap", refresh);
  setInterval(refresh, 30000);
})();
