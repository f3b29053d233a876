// The answer page: numbered sections that open from the address, "Expand all", and a
// section that failed to load. Everything here improves a page that already works without it.
(function () {
  "use strict";

  function openSectionFromHash() {
    var match = /^#section-(\d+)$/.exec(window.location.hash);
    var details = match && document.getElementById("section-" + match[1]);
    if (details && details.tagName === "DETAILS") {
      details.open = true;
      details.scrollIntoView();
    }
  }

  function enableExpandAll() {
    document.querySelectorAll("[data-expand-all]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        button.closest("section").querySelectorAll("details").forEach(function (d) { d.open = true; });
      });
    });
  }

  // A section that fails to load says so and offers its own page instead.
  function showLoadError(event) {
    var details = event.detail.elt;
    if (!details || !details.classList || !details.classList.contains("answer-section")) return;
    var body = details.querySelector(".section-body");
    var link = document.createElement("a");
    link.href = details.getAttribute("hx-get");
    link.textContent = "open this section on its own page";
    var message = document.createElement("p");
    message.className = "notice";
    message.append("This section could not be loaded. Check your connection, or ", link, ".");
    body.replaceChildren(message);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enableExpandAll();
    openSectionFromHash();
  });
  window.addEventListener("hashchange", openSectionFromHash);
  document.addEventListener("htmx:responseError", showLoadError);
  document.addEventListener("htmx:sendError", showLoadError);
})();
