// Floor pages: keep the scan input focused, beep on errors, open the print page.
// Everything here is optional: the pages work without JavaScript.
(function () {
  "use strict";
  var ctx = null;

  function audio() {
    try {
      ctx = ctx || new (window.AudioContext || window.webkitAudioContext)();
      if (ctx.state === "suspended") ctx.resume();
    } catch (e) { ctx = null; }
    return ctx;
  }

  // A loud low double buzz for a refused scan, a short quiet blip for a good one.
  function beep(kind) {
    var c = audio();
    if (!c) return;
    var tones = kind === "error" ? [[0, 0.18, 196], [0.24, 0.3, 147]] : [[0, 0.07, 1320]];
    tones.forEach(function (t) {
      var o = c.createOscillator(), g = c.createGain();
      o.type = kind === "error" ? "square" : "sine";
      o.frequency.value = t[2];
      g.gain.value = kind === "error" ? 0.25 : 0.06;
      o.connect(g); g.connect(c.destination);
      o.start(c.currentTime + t[0]); o.stop(c.currentTime + t[0] + t[1]);
    });
  }

  function settle() {
    document.querySelectorAll("[data-sound]:not([data-played])").forEach(function (el) {
      el.setAttribute("data-played", "1");
      beep(el.getAttribute("data-sound"));
    });
    var scan = document.querySelector("[data-scan]");
    if (scan && document.activeElement !== scan) {
      scan.focus();
      // the scanner may already be typing the next code: keep it, caret at the end
      var end = (scan.value || "").length;
      try { scan.setSelectionRange(end, end); } catch (e) { /* number inputs */ }
    }
    document.querySelectorAll("[data-open]:not([data-opened])").forEach(function (el) {
      el.setAttribute("data-opened", "1");
      window.open(el.getAttribute("data-open"), "_blank");
    });
  }

  // Scan forms (data-scan-form): each Enter is captured at once, the input is emptied
  // for the next scan, and the scans are posted one after the other, in order. The
  // input itself survives the panel swap (hx-preserve), so a scanner typing ahead of the
  // server loses nothing. Without htmx the form simply posts.
  var chain = Promise.resolve();
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute || !form.hasAttribute("data-scan-form") || !window.htmx) return;
    e.preventDefault();
    var values = {};
    new FormData(form).forEach(function (v, k) { values[k] = v; });
    form.querySelectorAll("[data-scan], input.qty").forEach(function (i) { i.value = ""; });
    var url = form.action, target = form.getAttribute("data-scan-form") || "#panel";
    chain = chain.then(function () {
      return htmx.ajax("POST", url, {
        source: document.body, target: target, swap: "outerHTML", values: values
      });
    }).catch(function () { beep("error"); });
  });

  // <select data-autosubmit>: choosing an option submits its form (the pages keep a
  // submit button for browsers without JavaScript). No inline handlers: the
  // Content-Security-Policy forbids them.
  document.addEventListener("change", function (e) {
    var el = e.target;
    if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
      el.form.submit();
    }
  });

  // Browsers only start audio after a user gesture: unlock it on the first key or tap.
  document.addEventListener("keydown", audio, { once: true });
  document.addEventListener("pointerdown", audio, { once: true });
  document.addEventListener("DOMContentLoaded", settle);
  document.addEventListener("htmx:afterSettle", settle);
  // A session that expired mid-scan answers with the login page: go there for real.
  document.addEventListener("htmx:beforeSwap", function (e) {
    var url = e.detail.xhr && e.detail.xhr.responseURL;
    if (url && url.indexOf("/accounts/login/") !== -1) { window.location = url; }
  });
  // A server error must not pass silently either.
  document.addEventListener("htmx:responseError", function () { beep("error"); });
  document.addEventListener("htmx:sendError", function () { beep("error"); });
})();
