// graph: improves a page that already works without it.
// On a phone "Your path" is one line that scrolls sideways; show its end, the question
// being read, rather than the oldest one.
(function () {
  function showCurrent(root) {
    root.querySelectorAll(".trail ol").forEach(function (list) {
      list.scrollLeft = list.scrollWidth;
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showCurrent(document); });
  document.addEventListener("htmx:afterSettle", function (event) { showCurrent(event.target); });
})();
