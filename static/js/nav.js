/* The navigation's "More" menu (templates/base.html) is a native <details>: it opens and closes by
 * keyboard, touch and screen reader without this file.  This only closes it as a menu is expected
 * to close: on Escape (focus back on "More"), on a tap or click elsewhere, and when focus leaves it.
 */
(function () {
  "use strict";

  function init() {
    var menus = document.querySelectorAll("details.nav-more-menu");
    Array.prototype.forEach.call(menus, function (menu) {
      var summary = menu.querySelector("summary");
      menu.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && menu.open) {
          menu.open = false;
          summary.focus();
        }
      });
      menu.addEventListener("focusout", function (event) {
        if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) {
          menu.open = false;
        }
      });
      document.addEventListener("click", function (event) {
        if (menu.open && !menu.contains(event.target)) {
          menu.open = false;
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
