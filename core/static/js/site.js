/* Behaviour every page shares. Loaded by base.html; the Content-Security-Policy allows no inline script, so
   pages declare what they need in data- attributes instead of onclick=/onsubmit= handlers. */
(function () {
  "use strict";

  // One menu drop-down open at a time; a click elsewhere closes it (details elements do not close by themselves).
  document.addEventListener("click", function (e) {
    document.querySelectorAll("details.navgroup[open], details.menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // <form data-confirm="确定…？">: ask before submitting; cancelling submits nothing.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
})();
