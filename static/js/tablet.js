/* CAR-T Track tablet helpers (no inline scripts: CSP). Progressive enhancement only: every form
   also works without JavaScript. */
(function () {
  "use strict";

  /* After a save the view and the focus go where the answer is: the confirmation with the new grade,
     or the list of everything to check at the top of the form (issue 13 item 2). */
  function showAnswer(root) {
    var target = root.querySelector(".error-summary") || root.querySelector(".message-success");
    if (!target) {
      var field = root.querySelector(".has-error input:not([type=hidden]), .has-error select, .has-error textarea");
      if (field) { field.focus(); }
      return;
    }
    target.setAttribute("tabindex", "-1");
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "start" });
  }

  /* After settling (the grade panel, checks and observations are swapped out of band too), so
     nothing moves the view afterwards. */
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var form = target && target.id && document.getElementById(target.id);
    if (form && form.classList.contains("entry-form")) { showAnswer(form); }
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

  /* My patients: a new order applies at once and stays in the address (so a refresh keeps it). */
  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (form && form.id === "patients-sort" && typeof form.requestSubmit === "function") { form.requestSubmit(); }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var answered = document.querySelector(".entry-form .error-summary");
    if (answered) { showAnswer(answered.closest(".entry-form")); }
  });
})();
