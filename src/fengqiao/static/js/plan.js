// Grid plan editor: units coloured by plan grid; a click on a unit picks it in the move
// form; after every edit (htmx fires "plan-changed") the map is recoloured.
(function () {
  "use strict";
  var PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada", "#80b1d3"];
  function colour(id) { return PALETTE[id % PALETTE.length]; }
  function start() {
    var el = document.getElementById("plan-map");
    if (!el || !window.L) return;
    var map = L.map(el, { attributionControl: false });
    var layer = null, outlines = null, first = true;
    function pick(f) {
      var unit = document.getElementById("move-unit");
      if (unit) {
        unit.value = String(f.properties.id);
        unit.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
    function load() {
      return fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (layer) map.removeLayer(layer);
          layer = L.geoJSON(data, {
            style: function (f) {
              return { color: "#ffffff", weight: 0.6, fillColor: colour(f.properties.plan_grid_id), fillOpacity: 0.75 };
            },
            onEachFeature: function (f, lyr) {
              var p = f.properties;
              lyr.bindTooltip(document.createTextNode(p.code + " " + p.name + " · " + p.population.toLocaleString() + " → " + p.grid_code), { sticky: true });
              lyr.on("click", function () { pick(f); });
            }
          });
          if (first && data.features.length) { map.fitBounds(layer.getBounds(), { padding: [8, 8] }); first = false; }
          layer.addTo(map);
          layer.eachLayer(function (lyr) {
            var node = lyr.getElement && lyr.getElement();
            if (node) {
              node.setAttribute("data-unit", lyr.feature.properties.code);
              node.setAttribute("data-grid", lyr.feature.properties.grid_code);
              node.classList.add("unit-shape");
            }
          });
          el.dataset.units = String(data.features.length);
          el.dataset.loaded = String(Date.now());
        })
        .catch(function (e) { el.dataset.error = String(e); });
    }
    var lastUnit = null;
    function follow(unit) {  // the target list starts at the unit's own grid
      var opt = unit.options[unit.selectedIndex];
      var target = document.getElementById("move-target");
      if (opt && target) target.value = opt.getAttribute("data-grid");
      lastUnit = unit.value;
    }
    // Delegated: the edit forms are replaced after every edit.
    document.body.addEventListener("change", function (e) {
      if (e.target && e.target.id === "move-unit") follow(e.target);
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      var unit = document.getElementById("move-unit");
      if (unit && lastUnit !== null) { unit.value = lastUnit; follow(unit); }
    });
    document.body.addEventListener("plan-changed", function () { load(); });
    load();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
