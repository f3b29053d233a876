// The answer page: numbered sections that open from the address and name themselves in it,
// "Expand all" / "Collapse all", and a section that failed to load. Everything here improves
// a page that already works without it.
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

  // The button opens every section; once all are open (by it or one by one) it offers to
  // close them all, and once one is closed again, to open them all. Listened for on the
  // document, and labelled again whenever htmx puts a page back (Back after a search
  // restores a saved copy of the page: new elements, without listeners of their own).
  function sectionsOf(button) {
    return Array.from(button.closest("section").querySelectorAll("details.answer-section"));
  }

  function allOpen(button) {
    return sectionsOf(button).every(function (d) { return d.open; });
  }

  function labelExpandAll() {
    document.querySelectorAll("[data-expand-all]").forEach(function (button) {
      button.hidden = false;
      button.textContent = allOpen(button) ? "Collapse all" : "Expand all";
    });
  }

  function expandOrCollapseAll(event) {
    var button = event.target.closest && event.target.closest("[data-expand-all]");
    if (!button) return;
    var open = !allOpen(button);
    sectionsOf(button).forEach(function (d) { d.open = open; });
    labelExpandAll();
  }

  // A section the reader opens is named in the address, so a copied link opens it too,
  // and the name goes when that section closes (by hand or "Collapse all"). The address is
  // replaced, not pushed: Back still leaves the page rather than stepping through sections.
  // Only the reader's own clicks name a section ("Expand all" opens them all; the address
  // names one already), so those are marked, and the address follows the toggle they cause.
  function markReaderToggle(event) {
    var summary = event.target.closest && event.target.closest("details.answer-section > summary");
    if (summary) summary.parentElement.toggledByReader = true;
  }

  function followSectionInAddress(event) {
    var details = event.target;
    if (!details.classList || !details.classList.contains("answer-section")) return;
    labelExpandAll();
    var byReader = details.toggledByReader;
    details.toggledByReader = false;
    var here = window.location.pathname + window.location.search;
    var named = "#" + details.id;
    if (details.open && byReader) {
      window.history.replaceState(window.history.state, "", here + named);
    } else if (!details.open && window.location.hash === named) {
      window.history.replaceState(window.history.state, "", here);
    }
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

  // "Cite this answer": a Copy button beside each citation, where the browser can copy
  // (without it, or without JavaScript, the citation is selectable text).
  function showCopyButtons() {
    if (!navigator.clipboard) return;
    document.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  }

  function copyCitation(event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    navigator.clipboard.writeText(source.textContent).then(function () {
      button.firstChild.textContent = "Copied";
      window.setTimeout(function () { button.firstChild.textContent = "Copy"; }, 2000);
    });
  }

  // Share: the device's own share sheet, where the browser has one; the plain links stay.
  function showShareButtons() {
    if (!navigator.share) return;
    document.querySelectorAll("[data-share]").forEach(function (button) { button.hidden = false; });
  }

  function share(event) {
    var button = event.target.closest && event.target.closest("[data-share]");
    if (!button) return;
    navigator.share({ title: button.dataset.shareTitle, url: button.dataset.shareUrl }).catch(function () {
      // Dismissed, or refused: the links beside it still work.
    });
  }

  function pageShown() {
    labelExpandAll();
    openSectionFromHash();
    showCopyButtons();
    showShareButtons();
  }

  document.addEventListener("DOMContentLoaded", pageShown);
  document.addEventListener("htmx:historyRestore", pageShown);
  document.addEventListener("htmx:afterSettle", labelExpandAll);  // an answer swapped into the page
  window.addEventListener("hashchange", openSectionFromHash);
  document.addEventListener("click", markReaderToggle);
  document.addEventListener("click", expandOrCollapseAll);
  document.addEventListener("click", copyCitation);
  document.addEventListener("click", share);
  document.addEventListener("htmx:afterSettle", showCopyButtons);
  document.addEventListener("htmx:afterSettle", showShareButtons);
  document.addEventListener("toggle", followSectionInAddress, true);
  document.addEventListener("htmx:responseError", showLoadError);
  document.addEventListener("htmx:sendError", showLoadError);
})();
