// Live command room: grids, open incidents and personnel on a map, updated by server-sent
// events; the queue and roster panels are refreshed through htmx when something changes.
(function () {
  "use strict";
  var STATUS_COLOUR = { available: "#137333", en_route: "#e0a800", on_scene: "#d35400", busy: "#b42318", off_duty: "#8a939b" };
  var PRIORITY_COLOUR = { urgent: "#b42318", high: "#d35400", normal: "#1c4e80" };
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(url + " " + r.status); return r.json(); });
  }
  function start() {
    var el = document.getElementById("command-map");
    if (!el || !window.L) return;
    var map = L.map(el, { attributionControl: false });
    var incidents = {}, people = {};
    var incidentLayer = L.layerGroup(), peopleLayer = L.layerGroup();
    function showIncident(i) {
      var open = ["received", "dispatched", "accepted", "arrived"].indexOf(i.status) >= 0;
      if (incidents[i.id]) { incidentLayer.removeLayer(incidents[i.id]); delete incidents[i.id]; }
      if (!open || i.lon == null) { el.dataset.incidentCount = String(Object.keys(incidents).length); return; }
      var m = L.circleMarker([i.lat, i.lon], { radius: 9, color: "#000", weight: 1, fillColor: PRIORITY_COLOUR[i.priority] || "#1c4e80", fillOpacity: 0.9 });
      m.bindTooltip(document.createTextNode(String(i.number || i.id) + " · " + (i.category_name || i.category || "")));
      m.on("click", function () { window.location.href = "/incidents/" + i.id; });
      m.addTo(incidentLayer);
      var p = m.getElement && m.getElement();
      if (p) { p.setAttribute("data-incident-id", i.id); p.classList.add("incident-marker"); }
      incidents[i.id] = m;
      el.dataset.incidentCount = String(Object.keys(incidents).length);
    }
    function showPerson(p) {
      if (p.lon == null || p.lat == null) return;
      var colour = STATUS_COLOUR[p.status || p.duty_status] || "#555";
      if (people[p.id]) { people[p.id].setLatLng([p.lat, p.lon]); people[p.id].setStyle({ fillColor: colour }); return; }
      var m = L.circleMarker([p.lat, p.lon], { radius: 5, color: "#fff", weight: 1, fillColor: colour, fillOpacity: 1 });
      m.bindTooltip(document.createTextNode(p.name));
      m.addTo(peopleLayer);
      var e = m.getElement && m.getElement();
      if (e) { e.setAttribute("data-person-id", p.id); e.classList.add("person-marker"); }
      people[p.id] = m;
    }
    var refreshTimer = null;
    function refreshPanels() {
      if (refreshTimer) return;
      refreshTimer = setTimeout(function () {
        refreshTimer = null;
        htmx.trigger("#queue", "refresh");
        htmx.trigger("#roster", "refresh");
      }, 300);
    }
    getJSON(el.dataset.geojson).then(function (data) {
      var grids = L.geoJSON(data, { interactive: false, style: function () { return { color: "#1c4e80", weight: 1, fillOpacity: 0.05 }; } });
      if (data.features.length) map.fitBounds(grids.getBounds()); else map.setView([25.1, 117.0], 10);
      grids.addTo(map); incidentLayer.addTo(map); peopleLayer.addTo(map);
      return Promise.all([getJSON(el.dataset.incidents), getJSON(el.dataset.people)]);
    }).then(function (res) {
      res[0].forEach(showIncident);
      res[1].forEach(function (p) { if (p.kind === "officer" || p.kind === "auxiliary") showPerson({ id: p.id, name: p.name, lon: p.lon, lat: p.lat, status: p.duty_status }); });
      connect();
    }).catch(function (e) { el.textContent = "⚠ " + e; });

    function connect() {
      var state = document.querySelector("#live-state");
      var source = new EventSource(el.dataset.stream);
      source.addEventListener("hello", function () { state.dataset.live = "on"; state.querySelector("span").textContent = "●"; });
      source.addEventListener("incident", function (e) {
        var i = JSON.parse(e.data);
        showIncident(i);  // the event carries what the map needs: no extra request per screen
        refreshPanels();
      });
      ["person", "position"].forEach(function (kind) {
        source.addEventListener(kind, function (e) { showPerson(JSON.parse(e.data)); if (kind === "person") refreshPanels(); });
      });
      source.addEventListener("alert", function (e) {
        var a = JSON.parse(e.data), box = document.getElementById("alerts");
        var div = document.createElement("div");
        div.className = "alert"; div.textContent = "⚠ " + (a.rule || "") + " #" + a.incident;
        box.prepend(div);
        setTimeout(function () { div.remove(); }, 30000);
      });
      source.addEventListener("dispute_alert", function (e) {
        var a = JSON.parse(e.data), box = document.getElementById("alerts");
        var link = document.createElement("a");
        link.href = a.url; link.textContent = "⚠ " + (box.dataset.disputeMsg || "") + " " + a.number + " " + a.title;
        var div = document.createElement("div");
        div.className = "alert dispute-alert"; div.appendChild(link);
        box.prepend(div);
        setTimeout(function () { div.remove(); }, 120000);
      });
      source.onerror = function () { state.dataset.live = "retrying"; state.querySelector("span").textContent = "…"; };
    }
  }
  // A refused dispatch (409, 422) is shown, not swallowed.
  document.addEventListener("htmx:responseError", function (e) {
    var box = document.getElementById("alerts"), text = e.detail.xhr.responseText;
    try { text = JSON.parse(text).detail; } catch (err) { /* plain text */ }
    if (!box) return;
    var div = document.createElement("div");
    div.className = "alert"; div.setAttribute("role", "alert"); div.textContent = "⚠ " + text;
    box.prepend(div);
    setTimeout(function () { div.remove(); }, 15000);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
