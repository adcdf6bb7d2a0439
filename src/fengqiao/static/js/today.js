// The phone page "today": map of my grid with task pins, check-in with the browser's
// position, completion with photos. Submissions go to the JSON API; when the network is
// down they wait in IndexedDB (files included) and are sent, in order, when it is back.
// Each submission carries a key chosen here, so a replay is stored once by the server.
(function () {
  "use strict";
  var DB_NAME = "fengqiao-today", STORE = "outbox";
  var root, msgs, syncing = false;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), out = fn(t.objectStore(STORE));
        t.oncomplete = function () { resolve(out && out.result !== undefined ? out.result : out); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function allQueued() { return tx("readonly", function (s) { return s.getAll(); }); }
  function enqueue(item) { return tx("readwrite", function (s) { s.add(item); }); }
  function dequeue(seq) { return tx("readwrite", function (s) { s["delete"](seq); }); }

  function card(id) { return document.getElementById("task-" + id); }
  function say(id, text, isError) {
    var c = card(id); if (!c) return;
    var p = c.querySelector(".task-message");
    p.textContent = text; p.hidden = !text;
    p.classList.toggle("error", !!isError); p.classList.toggle("ok", !isError);
  }
  function mark(id, status) {
    var c = card(id); if (!c) return;
    c.dataset.status = status;
    c.classList.remove("status-open", "status-checked_in", "status-done");
    c.classList.add("status-" + status);
    var badge = c.querySelector(".task-status");
    if (badge) badge.textContent = status === "done" ? msgs.msgDone : status === "checked_in" ? msgs.msgCheckedIn : badge.textContent;
    if (status !== "open") { var f = c.querySelector("form.check-in"); if (f) f.remove(); }
    if (status === "done") {
      var box = c.querySelector(".complete-box"); if (box) box.remove();
      var n = document.getElementById("count-done");
      if (n && c.dataset.counted !== "1") { c.dataset.counted = "1"; n.dataset.n = String(+n.dataset.n + 1); n.textContent = n.dataset.n; }
    }
  }
  function showPending(items) {
    var el = document.getElementById("sync-state");
    el.dataset.pending = String(items.length);
    el.textContent = items.length ? msgs.msgPending.replace("{n}", items.length) : "";
  }
  function showNet() {
    var el = document.getElementById("net-state");
    el.textContent = navigator.onLine ? msgs.msgOnline : msgs.msgOffline;
    el.classList.toggle("overdue", !navigator.onLine);
  }

  // One attempt to send; resolves {ok, status, body} or rejects on a network failure.
  function send(item) {
    var init = { method: "POST", credentials: "same-origin", headers: { Accept: "application/json" } };
    if (item.json) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(item.json); }
    else {
      var fd = new FormData();
      item.fields.forEach(function (kv) { fd.append(kv[0], kv[1]); });
      item.files.forEach(function (f) { fd.append(f.name, f.blob, f.filename); });
      init.body = fd;
    }
    return fetch(item.url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) { return { ok: r.ok, status: r.status, body: body }; });
    });
  }
  // Answers that settle a submission for good: stored (2xx), or refused for a reason
  // a retry cannot change (not yours, gone, already completed, invalid). Anything else
  // (logged out, server or proxy down, throttled) keeps it in the outbox.
  function final(status) { return (status >= 200 && status < 300) || [403, 404, 409, 422].indexOf(status) >= 0; }
  function settled(item, res) {
    if (res.ok) {
      var c = card(item.task);
      if (item.kind === "complete" || !c || c.dataset.status !== "done") mark(item.task, item.kind === "complete" ? "done" : "checked_in");
      say(item.task, item.queued ? msgs.msgSynced : "", false);
    } else {
      say(item.task, (res.body && res.body.detail) ? String(typeof res.body.detail === "string" ? res.body.detail : JSON.stringify(res.body.detail)) : ("HTTP " + res.status), true);
    }
  }
  function keep(item) {
    item.queued = true;
    return enqueue(item).then(function () { say(item.task, msgs.msgQueued, false); return allQueued().then(showPending); });
  }
  // Send now unless older submissions still wait (order matters: a check-in before its
  // completion); on a network failure or a passing refusal keep it in the outbox.
  function submit(item) {
    item.person = root.dataset.person;
    return mine().then(function (waiting) {
      if (waiting.length) return keep(item).then(sync);
      return send(item).then(function (res) {
        if (!final(res.status)) return keep(item).then(function () { return loggedOut(res); });
        settled(item, res);
        return res;
      }, function () { return keep(item); });
    });
  }
  function mine() {
    return allQueued().then(function (items) { return items.filter(function (i) { return i.person === root.dataset.person; }); });
  }
  function loggedOut(res) {
    // The session ended while offline: log in again; the outbox stays on this phone.
    if (res.status === 401) window.location.href = "/login?next=/today";
  }
  function sync() {
    if (syncing) return Promise.resolve();
    syncing = true;
    return mine().then(function (items) {
      var chain = Promise.resolve(true);
      items.forEach(function (item) {
        chain = chain.then(function (go) {
          if (!go) return false;
          return send(item).then(function (res) {
            if (!final(res.status)) { loggedOut(res); return false; }  // keep it, stop here
            settled(item, res);
            return dequeue(item.seq).then(function () { return true; });
          }, function () { return false; });
        });
      });
      return chain;
    }).then(mine).then(showPending).then(function () { syncing = false; }, function () { syncing = false; });
  }

  function locate() {
    return new Promise(function (resolve) {
      if (!navigator.geolocation) return resolve(null);
      navigator.geolocation.getCurrentPosition(function (p) {
        resolve({ lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy });
      }, function () { resolve(null); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function onCheckIn(e) {
    e.preventDefault();
    var form = e.target, id = form.closest(".task-card").dataset.taskId;
    say(id, msgs.msgLocating, false);
    locate().then(function (pos) {
      if (!pos) { say(id, msgs.msgNoPosition, true); return; }
      submit({ kind: "check-in", task: id, url: "/api/v1/tasks/" + id + "/check-in", json: {
        lon: pos.lon, lat: pos.lat, accuracy_m: pos.accuracy, key: form.elements.key.value, at: new Date().toISOString() } });
    });
  }
  function onComplete(e) {
    e.preventDefault();
    var form = e.target, id = form.closest(".task-card").dataset.taskId;
    var values = {}, fields = [], files = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      if (el.dataset.field) {
        if (el.type === "checkbox") values[el.dataset.field] = el.checked;
        else if (el.value !== "") values[el.dataset.field] = el.value;
      } else if (el.dataset.check) {
        if (el.checked) values["check_" + el.dataset.check] = el.value;
      } else if (el.type === "file") {
        Array.prototype.forEach.call(el.files, function (f) { files.push({ name: el.name, blob: f, filename: f.name }); });
      }
    });
    var card_ = card(id);
    locate().then(function (pos) {
      fields.push(["values", JSON.stringify(values)], ["key", form.elements.key.value], ["at", new Date().toISOString()]);
      if (pos) fields.push(["lon", String(pos.lon)], ["lat", String(pos.lat)], ["accuracy_m", String(pos.accuracy)]);
      else if (card_.dataset.status === "open") { say(id, msgs.msgNoPosition, true); return; }
      submit({ kind: "complete", task: id, url: "/api/v1/tasks/" + id + "/complete", fields: fields, files: files })
        .then(function (res) { if (!res || res.ok) { mark(id, "done"); } });
    });
  }

  function drawMap() {
    var el = document.getElementById("today-map");
    if (!el || !window.L) return;
    var data = JSON.parse(document.getElementById("today-data").textContent);
    var map = L.map(el, { attributionControl: false });
    var grids = L.geoJSON(data.grids, { style: { color: "#1c4e80", weight: 2, fillOpacity: 0.05 } });
    // The view first: vector layers cannot be drawn on a map without one.
    var bounds = L.latLngBounds([]);
    if (data.grids.features.length) bounds.extend(grids.getBounds());
    data.pins.forEach(function (p) { bounds.extend([p.lat, p.lon]); });
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] }); else map.setView([25.1, 117.0], 12);
    grids.addTo(map);
    var pins = data.pins.map(function (p) {
      var colour = p.status === "done" ? "#2e7d32" : p.overdue ? "#b42318" : "#d35400";
      var m = L.circleMarker([p.lat, p.lon], { radius: 8, color: colour, fillColor: colour, fillOpacity: 0.8 });
      m.bindTooltip(document.createTextNode(p.title));
      m.on("click", function () { var c = card(p.id); if (c) c.scrollIntoView({ behavior: "smooth" }); });
      return m.addTo(map);
    });
    el.dataset.pins = String(pins.length);
  }

  // A dissuasion order for me arrives on the live feed: say so at once, then reload the
  // list (unless something is being typed) so that its task shows.
  function listen() {
    if (!window.EventSource || !root.dataset.stream) return;
    var source = new EventSource(root.dataset.stream);
    source.addEventListener("hello", function () { root.dataset.live = "on"; });
    function alertFor(data) {
      var alert = document.getElementById("fraud-alert");
      var link = alert.querySelector("a");
      link.href = data.order ? "/fraud/orders/" + data.order : "/today";
      link.textContent = msgs.msgFraud + " · " + data.title + " · " + data.label;
      alert.hidden = false;
      alert.dataset.order = String(data.order);
      setTimeout(function () {
        var typing = document.activeElement && /INPUT|TEXTAREA|SELECT/.test(document.activeElement.tagName);
        if (!typing && navigator.onLine) window.location.reload();
      }, 1500);
    }
    source.addEventListener("fraud_order", function (e) {
      var data = JSON.parse(e.data);
      if (String(data.person) === root.dataset.person) alertFor(data);
    });
    // A file's orders arrive as a count; urgent ones call for the same alert.
    source.addEventListener("fraud_orders", function (e) {
      var data = JSON.parse(e.data);
      if (String(data.person) !== root.dataset.person || !data.urgent) return;
      alertFor({ order: "", title: msgs.msgFraudMany.replace("{n}", data.urgent), label: "" });
    });
  }

  function start() {
    root = document.getElementById("today");
    if (!root) return;
    msgs = root.dataset;
    document.querySelectorAll("form.check-in").forEach(function (f) { f.addEventListener("submit", onCheckIn); });
    document.querySelectorAll("form.complete").forEach(function (f) { f.addEventListener("submit", onComplete); });
    window.addEventListener("online", function () { showNet(); sync(); });
    window.addEventListener("offline", showNet);
    showNet();
    try { drawMap(); } catch (err) { if (window.console) console.error("map", err); } // the list works without the map
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(function () {});
    sync();
    setInterval(function () { if (navigator.onLine) sync(); }, 5000);
    listen();
    root.dataset.ready = "1";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
