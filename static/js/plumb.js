// Plumb's own behaviour, shared by every page. Each feature has its own file beside this
// one (answers.js, search.js, graph.js, support.js). Everything improves a page that
// already works without it.
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");
})();
