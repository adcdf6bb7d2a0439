// Offline worker of the today page: static files from the cache first; the page itself
// from the network, or from the cache when the network is down. Submissions are not
// handled here: the page queues them itself (today.js) and sends them when online.
"use strict";
var CACHE = "fengqiao-__VERSION__";  // the server fills in a hash of the files below
var SHELL = ["/today", "/static/css/app.css", "/static/js/today.js", "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css", "/static/vendor/htmx/htmx.min.js", "/static/favicon.svg", "/manifest.webmanifest"];

self.addEventListener("install", function (e) {
  e.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(SHELL); }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (e) {
  var req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/login") {
    // Logged out (or the session ended): the cached page of the last user goes with it.
    e.waitUntil(caches["delete"](CACHE));
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    e.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        if (res.ok) { var copy = res.clone(); caches.open(CACHE).then(function (c) { c.put(req, copy); }); }
        return res;
      });
    }));
  } else if (url.pathname === "/today" || url.pathname === "/manifest.webmanifest") {
    e.respondWith(fetch(req).then(function (res) {
      if (res.ok && !res.redirected) { var copy = res.clone(); caches.open(CACHE).then(function (c) { c.put(url.pathname, copy); }); }
      return res;
    }, function () { return caches.match(url.pathname); }));
  }
});
