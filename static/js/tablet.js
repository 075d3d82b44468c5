/* CAR-T Track tablet helpers (no inline scripts: CSP). Progressive enhancement only: every form
   also works without JavaScript. */
(function () {
  "use strict";

  function focusFirstError(root) {
    var field = root.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
    if (field) {
      field.focus({ preventScroll: false });
      return;
    }
    var notice = root.querySelector(".message-success");
    if (notice) {
      notice.setAttribute("tabindex", "-1");
      notice.focus();
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (target && target.classList && target.classList.contains("entry-form")) {
      focusFirstError(target);
    } else if (event.detail.elt && event.detail.elt.querySelector) {
      var form = document.querySelector(".entry-form .has-error");
      if (form) { focusFirstError(form.closest(".entry-form")); }
    }
  });

  /* A second tap while a save is in flight does nothing (the client UUID also makes it harmless). */
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.classList && form.classList.contains("entry-form")) {
      if (form.dataset.busy === "1") { event.preventDefault(); return; }
      form.dataset.busy = "1";
      form.setAttribute("aria-busy", "true");
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.dataset) { delete form.dataset.busy; form.removeAttribute("aria-busy"); }
  });

  /* Remember the button that submitted (e.g. "Convert °F to °C") for htmx requests. */
  document.addEventListener("htmx:configRequest", function (event) {
    var submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
    if (submitter && submitter.name) {
      event.detail.parameters[submitter.name] = submitter.value;
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var firstError = document.querySelector(".entry-form .has-error");
    if (firstError) { focusFirstError(firstError.closest(".entry-form")); }
  });
})();
