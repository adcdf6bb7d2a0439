// Intake form: click the map to fill longitude and latitude (WGS-84).
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("pick-map");
    if (!el || !window.L) return;
    var map = L.map(el, { attributionControl: false });
    var lon = document.getElementById("lon"), lat = document.getElementById("lat"), marker = null;
    function place(ll) {
      lon.value = ll.lng.toFixed(6); lat.value = ll.lat.toFixed(6);
      if (marker) marker.setLatLng(ll); else marker = L.marker(ll).addTo(map);
    }
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, { style: function () { return { color: "#1c4e80", weight: 1, fillOpacity: 0.08 }; } });
        layer.on("click", function (e) { place(e.latlng); });
        if (data.features.length) map.fitBounds(layer.getBounds()); else map.setView([25.1, 117.0], 10);
        layer.addTo(map);
        if (lon.value && lat.value) place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)));
        el.dataset.ready = "1";
      });
    map.on("click", function (e) { place(e.latlng); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
