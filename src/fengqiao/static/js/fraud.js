// Warning desk: new, escalated and updated orders arrive on the live feed; the page
// reloads (unless something is being typed) so the queue and deadlines stay current.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("fraud-desk");
    if (!el || !window.EventSource) return;
    var source = new EventSource(el.dataset.stream);
    var pending = null;
    function refresh() {
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        var a = document.activeElement;
        if (a && /INPUT|TEXTAREA|SELECT/.test(a.tagName)) { refresh(); return; }
        window.location.reload();
      }, 1500);
    }
    source.addEventListener("hello", function () { el.dataset.live = "on"; });
    ["fraud_order", "fraud_orders", "fraud_escalated", "fraud_update"].forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        var data = JSON.parse(e.data);
        if (kind === "fraud_escalated") {
          var note = document.getElementById("desk-alert");
          note.textContent = note.dataset.msg + " " + (data.title || "") + " · " + (data.label || "");
          note.hidden = false;
        }
        refresh();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
