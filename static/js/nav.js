/* The navigation's "More" menu (templates/base.html) is a native <details>: it opens and closes by
 * keyboard, touch and screen reader without this file.  This only closes it as a menu is expected
 * to close: on Escape (focus back on "More"), on a tap or click elsewhere, and when focus leaves it.
 * It also marks where the user is: the link whose address is the longest prefix of this page's gets
 * aria-current="page" (an alert's page under "Alerts inbox", a patient's under "My patients"), and
 * "More" is marked when that link is in its list, so the current page is visible with the menu shut.
 */
(function () {
  "use strict";

  function markCurrent() {
    var here = window.location.pathname;
    var best = null;
    var bestLength = -1;
    var links = document.querySelectorAll(".site-nav a[href]");
    Array.prototype.forEach.call(links, function (link) {
      var path = link.pathname;
      var matches = here === path || (path.charAt(path.length - 1) === "/" && here.indexOf(path) === 0);
      if (matches && path.length > bestLength) {
        best = link;
        bestLength = path.length;
      }
    });
    if (!best) {
      return;
    }
    best.setAttribute("aria-current", "page");
    var menu = best.closest("details.nav-more-menu");
    if (menu) {
      menu.classList.add("nav-more-current");
    }
  }

  function init() {
    markCurrent();
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
