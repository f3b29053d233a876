// search: the header box's history. Improves a page that already works without it.
//
// The box searches as the reader types (hx-trigger on the input in
// templates/search/_form.html). The server replaces the address while the reader types on
// the results and adds an entry for the first search from another page, a submitted
// search and a followed link (webapp/search/routes.py). Here:
// - a pause of SETTLE_MS or more keeps the results on screen as an entry of their own:
//   the next typing adds an entry instead of replacing it;
// - submitting what is already the address does not add a second, identical entry;
// - after Back or Forward, and after a link swapped in other results, the box shows the
//   query of the results on screen (#results[data-query]), or nothing where there are none;
// - clearing the box goes back to the page the reader was on before searching. Each
//   entry's history state records how many search entries lead up to it (its depth).
(function () {
  "use strict";
  var SETTLE_MS = 1600;
  var BOX_ID = "site-search";
  var DEPTH = "plumbSearchDepth";

  var lastInputAt = 0;
  var newEntryNext = false; // the next typing adds an entry instead of replacing one
  var leavingFrom = null;   // the box whose clearing sent the reader back
  var depth = (history.state && history.state[DEPTH]) || 0;
  var nextDepth = depth;

  function box() { return document.getElementById(BOX_ID); }

  function isBox(elt) { return !!elt && elt.id === BOX_ID; }

  function inHeaderForm(elt) { var b = box(); return !!elt && !!b && elt === b.form; }

  function searchPath() { var b = box(); return b ? new URL(b.form.action, location.href).pathname : "/search"; }

  function isSearch(path) { return new URL(path, location.href).pathname === searchPath(); }

  // The results or their counts (/search/counts).
  function asksSearch(path) {
    var asked = new URL(path, location.href).pathname;
    return asked === searchPath() || asked.indexOf(searchPath() + "/") === 0;
  }

  // htmx writes {htmx: true} over the entry's state when it saves or restores a page; the
  // depth goes back beside it.
  function stamp(value) {
    depth = value;
    var state = Object.assign({}, history.state || {}, { htmx: true });
    state[DEPTH] = value;
    history.replaceState(state, document.title, location.href);
  }

  function shownQuery() {
    var results = document.getElementById("results");
    return results ? results.getAttribute("data-query") || "" : "";
  }

  function showShownQuery() {
    var b = box();
    if (b) b.value = shownQuery();
  }

  document.addEventListener("input", function (event) {
    if (!isBox(event.target)) return;
    var now = Date.now();
    if (now - lastInputAt >= SETTLE_MS) newEntryNext = true;
    lastInputAt = now;
    if (event.target.value.trim() === "" && depth > 0) {
      leavingFrom = event.target;
      history.go(-depth);
    }
  });

  // The cleared box's own search would replace the page the reader is going back to.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (isBox(elt) && (elt === leavingFrom || !elt.isConnected)) event.preventDefault();
  });

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    var update = event.detail.history;
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    stamp(depth);
    if (isBox(elt)) {
      if (update.type === "replace" && newEntryNext) update.type = "push";
      newEntryNext = false;
    } else if (update.type === "push" && update.path === location.pathname + location.search) {
      update.type = "replace";
    }
    // A submitted search stands as its own entry: typing after it adds the next one.
    if (inHeaderForm(elt)) newEntryNext = true;
    if (update.type === "push") nextDepth = isSearch(update.path) ? depth + 1 : 0;
    else nextDepth = depth;
  });

  function afterUpdate() { stamp(nextDepth); }
  document.addEventListener("htmx:pushedIntoHistory", afterUpdate);
  document.addEventListener("htmx:replacedInHistory", afterUpdate);

  // Before htmx's own handler (it is set when the document is ready, this runs earlier),
  // while the entry's state still holds its depth.
  window.addEventListener("popstate", function (event) {
    depth = (event.state && event.state[DEPTH]) || 0;
    leavingFrom = null;
    newEntryNext = false;
    lastInputAt = 0;
  });

  document.addEventListener("htmx:historyRestore", function () {
    stamp(depth);
    showShownQuery();
  });

  // An answer that comes after the reader has left its page (Back while the counts of the
  // results were on their way) is dropped: its count, swapped in by id, would land on the
  // page the reader went back to, under other results.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var asker = event.detail.requestConfig && event.detail.requestConfig.elt;
    var path = event.detail.pathInfo && event.detail.pathInfo.requestPath;
    if (asker && !asker.isConnected && path && asksSearch(path)) event.detail.shouldSwap = false;
  });

  // A link or a submitted form brought other results (a did-you-mean, a facet, a page).
  // The reader's own typing is left alone, and so are the counts that follow each result
  // (they swap in only the filters, and the reader may be typing meanwhile).
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var asker = event.detail.requestConfig && event.detail.requestConfig.elt;
    var results = target && (target.id === "main" || target.id === "results");
    if (results && !isBox(asker) && document.getElementById("results")) showShownQuery();
  });
})();
