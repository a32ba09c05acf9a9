// 一张图 (issue 17 item 4): Leaflet (served from /static/vendor, installed from npm by scripts/setup) draws the
// jurisdiction's child boundaries and its enterprises from /risks/map-data.json. Base tiles come from the configured
// MAP_TILE_URL; without one the map shows the boundaries alone on a neutral background, so it works with no
// internet. Each grade has its colour AND its shape and character (重/较/般/低), never colour alone. The tables
// under the map hold the same data for readers without JavaScript and for screen readers.
(function () {
  "use strict";
  var holder = document.getElementById("onemap");
  var configNode = document.getElementById("onemap-config");
  if (!holder || !configNode || !window.L || !window.fetch) { return; }
  var config = JSON.parse(configNode.textContent);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function popup(lines, href, linkText) {
    var box = el("div", {"class": "om-popup"});
    lines.forEach(function (line, i) { box.appendChild(el(i === 0 ? "strong" : "div", {}, line)); });
    if (href) { box.appendChild(el("a", {"href": href}, linkText)); }
    return box;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }

  function pinIcon(grade, short, extra) {
    return L.divIcon({className: "om-icon", iconSize: [24, 24], iconAnchor: [12, 12], popupAnchor: [0, -10],
      html: '<span class="om-pin om-' + grade + (extra || "") + '"><span>' + short + "</span></span>"});
  }

  function badgeIcon(kind, text, dx) {
    return L.divIcon({className: "om-icon", iconSize: [16, 16], iconAnchor: [-6 - dx, 20],
      html: '<span class="om-badge om-badge-' + kind + '">' + text + "</span>"});
  }

  function draw(data) {
    holder.hidden = false;
    var layersBox = document.getElementById("onemap-layers");
    // Fractional zoom: a district fills the frame instead of snapping to the next whole level out.
    var map = L.map(holder, {zoomControl: true, attributionControl: !!config.tile_url, zoomSnap: config.tile_url ? 1 : 0.25});
    if (config.tile_url) {
      L.tileLayer(config.tile_url, {attribution: config.attribution, maxZoom: 18}).addTo(map);
    } else {
      holder.classList.add("onemap-plain");
    }
    var grades = {};
    data.grades.forEach(function (g) { grades[g.key] = g; });
    var outlines = L.geoJSON(data.boundaries, {
      style: function (f) {
        var own = f.properties.id === data.parent_id;
        return {color: own ? "#37474f" : "#546e7a", weight: own ? 3 : 1.5, dashArray: f.properties.schematic ? "6 4" : null,
                fillColor: "#90a4ae", fillOpacity: own ? 0 : 0.08};
      },
      onEachFeature: function (f, layer) {
        if (f.properties.id === data.parent_id) { return; }
        var label = f.properties.name + (f.properties.schematic ? "（示意边界）" : "");
        layer.bindTooltip(label, {sticky: true});
        layer.bindPopup(popup([label], f.properties.url, "进入该辖区"));
      }
    }).addTo(map);
    var layers = {enterprises: L.layerGroup(), majors: L.layerGroup(), supervised: L.layerGroup(), source: L.layerGroup()};
    var bounds = L.latLngBounds([]);
    if (data.mode === "points") {
      data.enterprises.forEach(function (e) {
        if (e.lat === null || e.lng === null) { return; }
        var g = grades[e.grade];
        var lines = [e.name, "最高风险等级：" + g.label];
        if (e.majors) { lines.push("未销号重大隐患：" + e.majors + " 项"); }
        if (e.supervised) { lines.push("挂牌督办中"); }
        if (e.major_source) { lines.push("有重大危险源"); }
        var marker = L.marker([e.lat, e.lng], {icon: pinIcon(e.grade, g.short), title: e.name + "｜" + g.label,
                                              riseOnHover: true});
        marker.bindPopup(popup(lines, e.url, "查看企业"));
        layers.enterprises.addLayer(marker);
        if (e.majors) { layers.majors.addLayer(L.marker([e.lat, e.lng], {icon: badgeIcon("majors", "隐", 0), interactive: false})); }
        if (e.supervised) { layers.supervised.addLayer(L.marker([e.lat, e.lng], {icon: badgeIcon("supervised", "督", 16), interactive: false})); }
        if (e.major_source) { layers.source.addLayer(L.marker([e.lat, e.lng], {icon: badgeIcon("source", "源", 32), interactive: false})); }
        bounds.extend([e.lat, e.lng]);
      });
    } else {
      data.areas.forEach(function (a) {
        if (a.lat === null || a.lng === null) { return; }
        var top = data.grades.filter(function (g) { return a.counts[g.key]; })[0] || grades.none;
        var lines = [a.name, "企业 " + a.total + " 家"].concat(data.grades.map(function (g) {
          return g.label + "：" + a.counts[g.key];
        }));
        lines.push("未销号重大隐患：" + a.majors + " 项", "挂牌督办企业：" + a.supervised + " 家");
        var icon = L.divIcon({className: "om-icon", iconSize: [112, 28], iconAnchor: [56, 14],
          html: '<span class="om-area om-' + top.key + '">' + escapeHtml(a.name) + " <b>" + a.total + "</b></span>"});
        var marker = L.marker([a.lat, a.lng], {icon: icon, title: a.name + "｜" + a.total + " 家"});
        marker.bindPopup(popup(lines, a.url, "进入该辖区查看企业"));
        layers.enterprises.addLayer(marker);
        if (a.majors) { layers.majors.addLayer(L.marker([a.lat, a.lng], {icon: badgeIcon("majors", a.majors, 44), interactive: false})); }
        if (a.supervised) { layers.supervised.addLayer(L.marker([a.lat, a.lng], {icon: badgeIcon("supervised", a.supervised, 64), interactive: false})); }
        bounds.extend([a.lat, a.lng]);
      });
    }
    Object.keys(layers).forEach(function (k) { layers[k].addTo(map); });
    if (layersBox) {
      layersBox.hidden = false;
      layersBox.addEventListener("change", function (ev) {
        var layer = layers[ev.target.getAttribute("data-layer")];
        if (!layer) { return; }
        if (ev.target.checked) { layer.addTo(map); } else { map.removeLayer(layer); }
      });
    }
    var outlineBounds = outlines.getBounds();
    if (outlineBounds.isValid()) { bounds.extend(outlineBounds); }
    if (bounds.isValid()) {
      // Padding keeps the labels drawn around the outermost points inside the frame.
      map.fitBounds(bounds, {padding: [56, 40], maxZoom: 16});
    } else {
      map.setView([35, 105], 4);  // nothing to place: the whole country
    }
    holder.setAttribute("data-ready", "1");
  }

  fetch(config.data_url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
    .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
    .then(draw)
    .catch(function () { holder.hidden = true; });
}());
