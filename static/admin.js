// Ward's admin console: while an audit chain verification runs, reload the
// page every two seconds so its progress shows (no inline script: the CSP
// allows only scripts served by Ward).
(function () {
  "use strict";
  var job = document.getElementById("verification");
  if (job && job.getAttribute("data-running") === "true") {
    window.setTimeout(function () { window.location.reload(); }, 2000);
  }
})();
