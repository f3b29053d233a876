// support: where focus goes after htmx swaps part of the supporter widget or a pledge row.
// The button the reader pressed is replaced with the rest, so focus would fall to <body>
// and a keyboard or screen-reader user would start again from the top of the page. After
// the swap, focus moves to the new content's [data-focus-here]: the Pledge button after
// logging in, the inbox note after registering, the thank-you, the question before
// cancelling, the row's new status after it. Only after the reader's own action: a lazy
// load or a poll never takes focus. And on arriving at /support with a pledge waiting, its
// Pledge button. Improves a page that already works without it.
(function () {
  "use strict";
  var SPOT = "[data-focus-here]";
  var AREAS = ".support-widget, .pledge-row";

  function focusLost() {
    var active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  }

  // Before the request: was it the reader, acting inside the part that will be replaced?
  document.addEventListener("htmx:beforeRequest", function (event) {
    var detail = event.detail;
    var target = detail.target;
    if (!target || !target.matches || !target.matches(AREAS)) return;
    var active = document.activeElement;
    var triggering = detail.requestConfig && detail.requestConfig.triggeringEvent;
    // A click that left focus on <body> (some browsers do not focus buttons) counts too.
    var byReader = (active && active !== document.body && target.contains(active)) ||
      (focusLost() && triggering && triggering.isTrusted);
    if (byReader && detail.xhr) detail.xhr.supportFocus = true;
  });

  // Back on /support with a pledge waiting (after logging in or the confirmation mail):
  // its Pledge button. Not `autofocus`, which browsers skip when the address has a
  // fragment, as these do (#support-widget): the browser focuses that widget instead
  // (it has tabindex=-1 then), and the focus is handed on, once.
  function handOn(waiting) {
    waiting.removeAttribute("data-focus-on-arrival");
    waiting.focus();
  }
  document.addEventListener("DOMContentLoaded", function () {
    var waiting = document.querySelector("[data-focus-on-arrival]");
    if (waiting && focusLost()) waiting.focus();  // kept for the arrival at the fragment
  });
  document.addEventListener("focusin", function (event) {
    var widget = event.target;
    var waiting = widget.matches && widget.matches(".support-widget") && widget.querySelector("[data-focus-on-arrival]");
    if (waiting) handOn(waiting);
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.supportFocus || !focusLost()) return;  // htmx may have kept focus in place
    var fresh = event.target;
    var spot = fresh.matches && fresh.matches(SPOT) ? fresh : fresh.querySelector && fresh.querySelector(SPOT);
    if (!spot) return;  // another part settling (an out-of-band header link): wait for the widget
    xhr.supportFocus = false;
    spot.focus();
  });
})();
