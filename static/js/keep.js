/* Nothing typed is lost (issue 13 item 1).  The browser's own storage and htmx events, no framework.

   Every entry form (.entry-form) is copied to localStorage while the nurse types ("typed") and when
   she taps Save ("pending"), with its client UUID.  A save that meets an expired session (401, or a
   redirect to the sign-in page) or no network is not swapped into the page: the form stays as it was,
   a message says in words what happened, and the entry is sent again - with the same client UUID, so
   the server stores it once (the API's idempotency) - when the nurse is back on the page after signing
   in, or when the network is back.  A confirmed save forgets the copy.  A copy belongs to the person
   who typed it: another user signing in on the same tablet never sends it.  Copies expire after 12 h.
*/
(function () {
  "use strict";

  var PREFIX = "carttrack.entry:";
  var MAX_AGE_MS = 12 * 3600 * 1000;
  var RETRY_MS = 15000;
  var typingTimer = null;

  function isEntry(el) { return !!(el && el.classList && el.classList.contains("entry-form")); }
  function pageData() { return document.querySelector("[data-entry-owner]"); }
  function owner() { var el = pageData(); return el ? el.getAttribute("data-entry-owner") : ""; }
  function zone() { var el = document.querySelector("[data-zone]"); return el ? el.getAttribute("data-zone") : undefined; }
  function storageKey(form) { return PREFIX + form.getAttribute("action"); }

  function clock(ms) {
    var options = { hour: "2-digit", minute: "2-digit", hour12: false, timeZoneName: "short" };
    try {
      return new Date(ms).toLocaleTimeString("en-GB", Object.assign({ timeZone: zone() }, options));
    } catch (e) {
      return new Date(ms).toLocaleTimeString("en-GB", options);
    }
  }

  function read(key) {
    var record = null;
    try { record = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
    if (!record || !record.values) { return null; }
    if (Date.now() - record.at > MAX_AGE_MS) { window.localStorage.removeItem(key); return null; }
    return record;
  }

  function write(key, record) {
    try { window.localStorage.setItem(key, JSON.stringify(record)); } catch (e) { /* storage full/off */ }
  }

  function snapshot(form, state) {
    var values = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") { values.push([name, String(value)]); }
    });
    var previous = read(storageKey(form));
    var record = {
      user: owner(),
      state: state,
      at: Date.now(),
      savedAt: state === "pending" ? Date.now() : (previous && previous.savedAt) || null,
      title: form.getAttribute("data-title") || "Entry",
      page: window.location.pathname,
      values: values
    };
    write(storageKey(form), record);
    return record;
  }

  function setState(key, state) {
    var record = read(key);
    if (record) { record.state = state; write(key, record); }
  }

  function restore(form, record) {
    var byName = {};
    record.values.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "submit" || el.type === "button") { return; }
      var values = byName[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
      } else {
        el.value = values.length ? values[0] : "";
      }
    });
    var details = form.closest("details");
    if (details) { details.open = true; }
  }

  /* One status line at the top of the form, in words; links are built as elements (no HTML strings). */
  function say(form, text, kind, link) {
    var box = form.querySelector(".keep-status");
    if (!box) {
      box = document.createElement("div");
      box.className = "keep-status";
      box.setAttribute("tabindex", "-1");
      form.insertBefore(box, form.firstChild);
    }
    box.setAttribute("role", kind === "info" ? "status" : "alert");
    box.className = "keep-status message message-" + kind;
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = text;
    box.appendChild(p);
    if (link) {
      var a = document.createElement("a");
      a.className = "button primary keep-sign-in";
      a.href = link.href;
      a.textContent = link.text;
      box.appendChild(a);
    }
    box.scrollIntoView({ block: "center" });
    box.focus({ preventScroll: true });
  }

  function send(form) {
    var button = form.querySelector("button.save");
    if (typeof form.requestSubmit === "function") { form.requestSubmit(button || undefined); }
    else if (window.htmx) { window.htmx.trigger(form, "submit"); }
  }

  function resendPending() {
    if (navigator.onLine === false) { return; }
    document.querySelectorAll(".entry-form").forEach(function (form) {
      var record = read(storageKey(form));
      if (!record || record.state !== "pending" || record.user !== owner() || form.dataset.busy === "1") { return; }
      restore(form, record);
      say(form, record.title + " saved at " + clock(record.savedAt || record.at) + " is being sent now.", "info");
      send(form);
    });
  }

  function signInUrl(xhr) {
    var redirect = xhr && xhr.getResponseHeader("HX-Redirect");
    return redirect || "/accounts/login/?next=" + encodeURIComponent(window.location.pathname);
  }

  /* Did the answer come from the entry form's own view (its form or its errors), or from something
     else: the sign-in page after a redirect, a 401, a proxy's error page? */
  function answeredByTheForm(form, xhr) {
    if (xhr.status === 401) { return false; }
    var url = xhr.responseURL || "";
    if (url.indexOf("/accounts/login/") !== -1 || url.indexOf("/accounts/two-factor/") !== -1) { return false; }
    return (xhr.responseText || "").indexOf('id="' + form.id + '"') !== -1;
  }

  document.addEventListener("input", function (event) {
    var form = event.target && event.target.form;
    if (!isEntry(form)) { return; }
    window.clearTimeout(typingTimer);
    typingTimer = window.setTimeout(function () {
      var record = read(storageKey(form));
      snapshot(form, record && record.state === "pending" ? "pending" : "typed");
    }, 300);
  });
  document.addEventListener("change", function (event) {
    var form = event.target && event.target.form;
    if (!isEntry(form)) { return; }
    var record = read(storageKey(form));
    snapshot(form, record && record.state === "pending" ? "pending" : "typed");
  });

  document.addEventListener("htmx:configRequest", function (event) {
    var form = event.detail.elt;
    if (isEntry(form)) { snapshot(form, "pending"); }
  });

  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var form = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!isEntry(form) || answeredByTheForm(form, xhr)) { return; }
    event.preventDefault(); // neither swap the answer into the form nor follow HX-Redirect
    var title = form.getAttribute("data-title") || "Entry";
    if (xhr.status === 401 || (xhr.responseURL || "").indexOf("/accounts/") !== -1) {
      say(
        form,
        title + ": not saved yet - you were signed out (15 minutes without activity). Nothing is " +
          "lost: what you typed is kept on this tablet and is sent once you have signed in again.",
        "warning",
        { href: signInUrl(xhr), text: "Sign in again" }
      );
    } else {
      say(
        form,
        "The server did not answer as expected (" + xhr.status + "), so this was not saved. What you " +
          "typed is kept on this tablet; it is sent again automatically.",
        "warning"
      );
    }
  });

  function offline(event) {
    var form = event.detail.elt;
    if (!isEntry(form)) { return; }
    say(
      form,
      "No network connection: not saved yet. What you typed is kept on this tablet and is sent " +
        "automatically when the connection is back.",
      "warning"
    );
  }
  document.addEventListener("htmx:sendError", offline);
  document.addEventListener("htmx:timeout", offline);

  /* The view answered (saved, or errors to fix): a confirmed save forgets the copy. */
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    var xhr = event.detail.xhr;
    if (!isEntry(form) || !xhr || !xhr.status || !answeredByTheForm(form, xhr)) { return; }
    var key = storageKey(form);
    if (xhr.status === 200 && (xhr.responseText || "").indexOf("message-success") !== -1) {
      window.localStorage.removeItem(key);
    } else {
      setState(key, "typed");
    }
  });

  window.addEventListener("online", resendPending);
  window.setInterval(resendPending, RETRY_MS);

  function onLoad() {
    /* The sign-in page: say that an entry is waiting (it is sent back on the patient's page). */
    var note = document.getElementById("kept-entries");
    if (note) {
      var waiting = [];
      for (var i = 0; i < window.localStorage.length; i++) {
        var key = window.localStorage.key(i);
        var record = key && key.indexOf(PREFIX) === 0 ? read(key) : null;
        if (record && record.state === "pending") { waiting.push(record.title + " saved at " + clock(record.savedAt || record.at)); }
      }
      if (waiting.length) {
        note.textContent = "Kept on this tablet, not sent yet: " + waiting.join("; ") +
          ". It is sent once the person who typed it has signed in and is back on the patient's page.";
        note.hidden = false;
      }
      return;
    }
    var sending = false;
    document.querySelectorAll(".entry-form").forEach(function (form) {
      var record = read(storageKey(form));
      if (!record || record.user !== owner()) { return; }
      restore(form, record);
      if (record.state === "pending") {
        sending = true;
      } else {
        say(form, "Restored what you typed at " + clock(record.at) + " - not saved yet. Check it and tap Save.", "info");
      }
    });
    if (sending) { resendPending(); }
  }
  /* After htmx has processed the page (its own DOMContentLoaded handler), so a resend goes through htmx. */
  function later() { window.setTimeout(onLoad, 0); }
  if (document.readyState === "complete") { later(); } else { document.addEventListener("DOMContentLoaded", later); }
})();
