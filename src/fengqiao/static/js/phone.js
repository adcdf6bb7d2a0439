// Officer's phone page: reload when a new assignment for me arrives; report my position.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("phone");
    if (!el) return;
    var source = new EventSource(el.dataset.stream);
    source.addEventListener("assignment", function (e) {
      if (String(JSON.parse(e.data).person) === el.dataset.person) window.location.reload();
    });
    source.addEventListener("hello", function () { el.dataset.live = "on"; });
    if (navigator.geolocation && window.isSecureContext) {
      navigator.geolocation.watchPosition(function (pos) {
        fetch("/api/v1/me/position", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ lon: pos.coords.longitude, lat: pos.coords.latitude })
        });
      }, function () {}, { maximumAge: 60000 });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
