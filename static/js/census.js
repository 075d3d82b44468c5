/* Census: changing a filter applies it at once (the form still works without JavaScript through
 * its Apply button), and the address bar keeps the filters so a refresh or a shared link shows
 * the same view.  The periodic refresh itself is htmx polling (hx-trigger="every 30s") with the
 * X-Background-Poll header so polling does not keep an idle session alive.
 */
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("census-filters");
    if (!form) { return; }
    var selects = form.querySelectorAll("select");
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener("change", function () {
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit();
        } else {
          form.submit();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
