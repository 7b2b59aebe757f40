// The demo page's own controls: refresh every widget, switch the language
// and the theme, log the widgets' events, and, without --demo, show the
// widgets for a pasted customer and token. No inline script: the page's
// Content-Security-Policy allows scripts from this server only.
(function () {
  "use strict";

  var widgets = document.querySelectorAll("#widgets > *");
  var log = document.getElementById("events");

  function note(text) {
    if (!log) {
      return;
    }
    var li = document.createElement("li");
    li.textContent = new Date().toLocaleTimeString() + " " + text;
    log.insertBefore(li, log.firstChild);
  }

  ["creditkit-load", "creditkit-error", "creditkit-topup", "creditkit-token-expired"].forEach(function (name) {
    document.addEventListener(name, function (ev) {
      var d = ev.detail || {};
      var what = ev.target.localName + " " + name;
      if (name === "creditkit-error") {
        what += ": " + d.status + " " + d.detail;
      }
      if (name === "creditkit-topup") {
        what += ": pack " + d.pack;
        ev.preventDefault(); // the demo has no checkout page
      }
      note(what);
    });
  });

  // The token is short-lived: a new page mints a new one.
  document.addEventListener("creditkit-token-expired", function () {
    if (document.getElementById("demo-customer")) {
      window.location.reload();
    }
  });

  var refresh = document.getElementById("refresh-all");
  if (refresh) {
    refresh.addEventListener("click", function () {
      if (window.CreditKit) {
        window.CreditKit.refreshAll();
      }
    });
  }

  var lang = document.getElementById("lang");
  if (lang) {
    lang.addEventListener("change", function () {
      document.getElementById("widgets").setAttribute("lang", lang.value);
      widgets.forEach(function (w) { w.setAttribute("lang", lang.value); });
    });
  }

  var theme = document.getElementById("theme");
  if (theme) {
    theme.addEventListener("change", function () {
      document.body.classList.toggle("dark", theme.value === "dark");
    });
  }

  var origin = document.getElementById("origin");
  if (origin) {
    origin.textContent = window.location.origin;
  }

  var form = document.getElementById("token-form");
  if (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var customer = document.getElementById("customer-input").value.trim();
      var token = document.getElementById("token-input").value.trim();
      widgets.forEach(function (w) {
        w.setAttribute("customer", customer);
        w.setAttribute("token", token);
      });
    });
  }
})();
