// Station overview map: grids coloured by population; a click loads the grid's card.
(function () {
  "use strict";
  function colour(pop) {
    if (pop > 5000) return "#a50f15";
    if (pop > 4000) return "#31a354";
    if (pop > 3000) return "#74c476";
    if (pop > 1500) return "#bae4b3";
    return "#edf8e9";
  }
  function start() {
    var el = document.getElementById("map");
    if (!el || !window.L) return;
    var map = L.map(el, { zoomControl: true, attributionControl: false });
    var selected = null;
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        var layer = L.geoJSON(data, {
          style: function (f) {
            return { color: "#1c4e80", weight: 1, fillColor: colour(f.properties.population), fillOpacity: 0.7 };
          },
          onEachFeature: function (f, lyr) {
            lyr.bindTooltip(document.createTextNode(f.properties.name + " · " + f.properties.population.toLocaleString()), { sticky: true });
            lyr.on("click", function () {
              if (selected) layer.resetStyle(selected);
              selected = lyr;
              lyr.setStyle({ weight: 3, color: "#d35400" });
              htmx.ajax("GET", "/grids/" + f.properties.id + "/card", { target: "#grid-card", swap: "innerHTML" });
            });
          }
        });
        if (data.features.length) map.fitBounds(layer.getBounds(), { padding: [10, 10] });
        else map.setView([25.1, 117.0], 10);
        layer.addTo(map);
        layer.eachLayer(function (lyr) {
          var p = lyr.getElement && lyr.getElement();
          if (p) { p.setAttribute("data-grid-code", lyr.feature.properties.code); p.classList.add("grid-shape"); }
        });
        el.dataset.gridCount = String(data.features.length);
        return fetch(el.dataset.stations, { credentials: "same-origin", headers: { Accept: "application/json" } });
      })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (stations) {
        L.geoJSON(stations, {
          interactive: false,
          style: function () { return { color: "#0b2545", weight: 3, fill: false, dashArray: "6 4" }; }
        }).addTo(map);
      })
      .catch(function (e) { el.textContent = "⚠ " + e; });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
