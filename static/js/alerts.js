// Alert inbox helpers (no inline script: CSP). Keeps "3 h 12 min ago" fresh between polls, in the
// words of carttrack/wording.py (ago).
(function () {
  "use strict";
  function fmt(seconds) {
    if (seconds < 60) return "just now";
    var m = Math.floor(seconds / 60);
    if (m < 60) return m + " min ago";
    var h = Math.floor(m / 60);
    if (h < 48) return h + " h" + (m % 60 ? " " + (m % 60) + " min" : "") + " ago";
    return Math.floor(h / 24) + " d" + (h % 24 ? " " + (h % 24) + " h" : "") + " ago";
  }
  function refresh() {
    var now = Date.now();
    document.querySelectorAll(".al-ago[data-since]").forEach(function (el) {
      var t = Date.parse(el.getAttribute("data-since"));
      if (!isNaN(t)) el.textContent = fmt(Math.max(0, (now - t) / 1000));
    });
  }
  document.addEventListener("DOMContentLoaded", refresh);
  document.addEventListener("htmx:afterSwap", refresh);
  setInterval(refresh, 30000);
})();
