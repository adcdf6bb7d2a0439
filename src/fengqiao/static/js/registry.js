// Registry pages: "use my position" fills the hidden lon/lat of its form from the
// phone's geolocation; the doorplate sheet's print button.
(function () {
  "use strict";
  function geolocate(button) {
    var form = button.form, status = form.querySelector("[data-geo-status]");
    function say(text) { if (status) status.textContent = text; }
    if (!navigator.geolocation) { say(button.dataset.unavailable || "—"); return; }
    button.disabled = true;
    say("…");
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.querySelector("input[name=lon]").value = pos.coords.longitude.toFixed(6);
      form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(6);
      say(pos.coords.latitude.toFixed(5) + ", " + pos.coords.longitude.toFixed(5) +
          " (±" + Math.round(pos.coords.accuracy) + " m)");
      button.disabled = false;
    }, function (err) {
      say(err.message);
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  function start() {
    document.querySelectorAll("[data-geolocate]").forEach(function (b) {
      b.addEventListener("click", function () { geolocate(b); });
    });
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
