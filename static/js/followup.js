/* CAR-T Track follow-up visit form (no inline scripts: CSP). Progressive enhancement only: shows the
   PGA slider's value beside it and ticks "Record this PGA" once the slider is moved. */
(function () {
  "use strict";

  function wire(root) {
    var slider = root.querySelector("input[type=range][name=pga]");
    var shown = root.querySelector("output[data-for=pga]");
    var record = root.querySelector("input[name=pga_recorded]");
    if (!slider || !shown) return;
    shown.textContent = record && record.checked ? slider.value : "not set";
    slider.addEventListener("input", function () {
      shown.textContent = slider.value;
      if (record) record.checked = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSwap", function () { wire(document); });
})();
