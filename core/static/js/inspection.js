/* Inspection pages (templates/inspections/*).
 *
 * Position: window.anjianLocate(callback) asks navigator.geolocation once (10 s timeout, a fix up to 2 minutes old
 * is fine) and calls back with {lat, lng, accuracy_m} or {gps_missing: denied | unsupported | timeout |
 * unavailable}. Every [data-gps] block (the start form, the finish step) gets its hidden fields filled and says
 * "已定位：…" or "未获取定位：…（可以继续…）"; the inspector is never stopped by a missing position.
 *
 * Autosave of the run page: every change posts that one item to the run's JSON answer endpoint with the CSRF
 * token header (on an enforcement run with the last position). Requests go out one at a time so that each carries
 * the answer version returned by the previous one. When the network is down the item is queued in localStorage
 * (per run) and retried when the browser is back online, every few seconds, on the next change, and when the page
 * is opened again (after a reload too); photos cannot be queued and are reported instead. The state line says
 * 已保存 / 保存中 / 未保存 and how many answers wait to be sent. Without JavaScript the form posts everything to the
 * fallback route.
 */
(function () {
  "use strict";
  var REASONS = { denied: "未授权定位", unsupported: "设备或浏览器不支持定位", timeout: "定位超时", unavailable: "无法获取位置" };
  var CODES = { 1: "denied", 2: "unavailable", 3: "timeout" };
  var last = null;
  var waiting = null;

  function locate(callback) {
    if (last) { callback(last); return; }
    if (waiting) { waiting.push(callback); return; }
    if (!navigator.geolocation) { last = { gps_missing: "unsupported" }; callback(last); return; }
    waiting = [callback];
    navigator.geolocation.getCurrentPosition(function (pos) {
      last = { lat: pos.coords.latitude, lng: pos.coords.longitude, accuracy_m: Math.round(pos.coords.accuracy) };
      done();
    }, function (err) {
      last = { gps_missing: CODES[err.code] || "unavailable" };
      done();
    }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 120000 });
    function done() {
      var cbs = waiting; waiting = null;
      cbs.forEach(function (cb) { cb(last); });
    }
  }
  window.anjianLocate = locate;
  window.anjianForgetPosition = function () { last = null; };

  function fillGps(box, pos) {
    ["lat", "lng", "accuracy_m", "gps_missing"].forEach(function (k) {
      var input = box.querySelector("input[name=" + k + "]");
      if (input) input.value = pos[k] === undefined || pos[k] === null ? "" : pos[k];
    });
    var state = box.querySelector("[data-gps-state]");
    if (state) {
      state.textContent = pos.gps_missing
        ? "未获取定位：" + (REASONS[pos.gps_missing] || pos.gps_missing) + "（可以继续，原因将记入全过程记录）"
        : "已定位：" + pos.lat.toFixed(5) + ", " + pos.lng.toFixed(5) + "（±" + pos.accuracy_m + " 米）";
      state.setAttribute("data-gps-result", pos.gps_missing ? "missing" : "ok");
    }
    var retry = box.querySelector("[data-gps-retry]");
    if (retry) retry.hidden = !pos.gps_missing;
  }

  document.querySelectorAll("[data-gps]").forEach(function (box) {
    var state = box.querySelector("[data-gps-state]");
    if (state) state.textContent = "正在获取定位…";
    locate(function (pos) { fillGps(box, pos); });
    var retry = box.querySelector("[data-gps-retry]");
    if (retry) retry.addEventListener("click", function () {
      last = null;
      if (state) state.textContent = "正在获取定位…";
      locate(function (pos) { fillGps(box, pos); });
    });
  });
})();

(function () {
  "use strict";
  var form = document.getElementById("insp-form");
  if (!form || !window.fetch) return;
  form.classList.add("js");
  var url = form.getAttribute("data-answer-url");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var key = "anjian-inspection-" + form.getAttribute("data-run");
  var stateEl = document.getElementById("insp-state");
  var pendingEl = document.getElementById("insp-pending");
  var enforcement = form.getAttribute("data-enforcement") === "1";
  var position = null;
  var chain = Promise.resolve();
  var inflight = 0;
  var timers = {};

  function setState(state, text) {
    stateEl.setAttribute("data-state", state);
    stateEl.textContent = text;
  }

  function loadQueue() {
    try { return JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { return {}; }
  }

  function saveQueue(queue) {
    try {
      if (Object.keys(queue).length) localStorage.setItem(key, JSON.stringify(queue));
      else localStorage.removeItem(key);
    } catch (e) { /* private mode: nothing to keep */ }
    showPending(Object.keys(queue).length);
  }

  function showPending(count) {
    if (!pendingEl) return;
    pendingEl.hidden = !count;
    pendingEl.setAttribute("data-count", count);
    pendingEl.textContent = count ? "待发送 " + count + " 条" : "";
  }

  function itemOf(el) { return el.closest(".insp-item"); }

  function readItem(item) {
    var type = item.getAttribute("data-type");
    var id = item.getAttribute("data-item");
    var value = null;
    if (type === "yes_no" || type === "yes_no_na") {
      var checked = item.querySelector("input[name='value-" + id + "']:checked");
      value = checked ? checked.value : null;
    } else if (type !== "photo") {
      var input = item.querySelector("[name='value-" + id + "']");
      value = input ? input.value : null;
    }
    var comment = item.querySelector("[name='comment-" + id + "']");
    return { value: value, comment: comment ? comment.value : "" };
  }

  function writeItem(item, data) {
    var id = item.getAttribute("data-item");
    var type = item.getAttribute("data-type");
    if (type === "yes_no" || type === "yes_no_na") {
      item.querySelectorAll("input[name='value-" + id + "']").forEach(function (r) { r.checked = r.value === data.value; });
    } else if (type !== "photo") {
      var input = item.querySelector("[name='value-" + id + "']");
      if (input) input.value = data.value || "";
    }
    var comment = item.querySelector("[name='comment-" + id + "']");
    if (comment) comment.value = data.comment || "";
    markFailed(item, data.value === "no");
  }

  function markFailed(item, failed) {
    item.classList.toggle("is-failed", !!failed);
  }

  function showMessage(item, text) {
    var msg = item.querySelector("[data-msg]");
    if (msg) msg.textContent = text || "";
  }

  function updateProgress(progress) {
    if (!progress) return;
    var answered = document.querySelector("[data-answered]");
    var failed = document.querySelector("[data-failed]");
    if (answered) answered.textContent = progress.answered;
    if (failed) failed.textContent = progress.failed;
  }

  function send(item, withPhotos) {
    var id = item.getAttribute("data-item");
    var data = readItem(item);
    var body = new FormData();
    body.append("item_id", id);
    if (data.value !== null) body.append("value", data.value);
    body.append("comment", data.comment);
    var versionInput = item.querySelector("[data-version]");
    body.append("version", versionInput.value || "");
    if (enforcement && position) {
      Object.keys(position).forEach(function (k) { body.append(k, position[k]); });
    }
    var files = [];
    if (withPhotos) {
      item.querySelectorAll("input[type=file]").forEach(function (f) {
        for (var i = 0; i < f.files.length; i++) { body.append("photos", f.files[i]); files.push(f); }
      });
    }
    return fetch(url, { method: "POST", body: body, credentials: "same-origin",
                        headers: { "X-CSRFToken": csrf, "Accept": "application/json" } })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (json) { return { resp: resp, json: json }; });
      })
      .then(function (r) {
        var queue = loadQueue();
        if (r.resp.ok) {
          delete queue[id];
          saveQueue(queue);
          versionInput.value = r.json.version || "";
          files.forEach(function (f) { f.value = ""; });
          markFailed(item, r.json.passed === false);
          item.classList.toggle("is-answered", r.json.value !== null || (r.json.photos || []).length > 0);
          var missing = r.json.missing_on_failure || [];
          showMessage(item, missing.length ? "不合格：尚缺" + missing.join("、") : "");
          renderPhotos(item, r.json.photos || []);
          updateProgress(r.json.progress);
          return true;
        }
        // Refused by the server (invalid value, stale version, run completed): not worth retrying.
        delete queue[id];
        saveQueue(queue);
        showMessage(item, (r.json && r.json.message) || "保存失败");
        if (r.resp.status === 409) setState("error", "未保存：数据已变化，请刷新页面");
        return false;
      });
  }

  function renderPhotos(item, photos) {
    var box = item.querySelector("[data-photos]");
    if (!box) return;
    var base = url.replace(/answers$/, "photos/");
    box.innerHTML = "";
    photos.forEach(function (p) {
      var a = document.createElement("a");
      a.href = base + p.id;
      a.target = "_blank";
      var img = document.createElement("img");
      img.src = base + p.id;
      img.alt = p.filename;
      a.appendChild(img);
      box.appendChild(a);
    });
  }

  function enqueue(item, withPhotos) {
    var id = item.getAttribute("data-item");
    var queue = loadQueue();
    queue[id] = readItem(item);
    saveQueue(queue);
    inflight++;
    setState("saving", "保存中…");
    chain = chain.then(function () {
      return send(item, withPhotos).then(function (ok) {
        return ok ? "ok" : "refused";
      }, function () {
        if (withPhotos) showMessage(item, "网络中断：照片未上传，恢复网络后请重新选择照片");
        return "offline";
      });
    }).then(function (outcome) {
      inflight--;
      if (outcome === "offline") setState("offline", "未保存（网络中断，恢复后自动重试）");
      else if (inflight === 0 && outcome === "ok" && !Object.keys(loadQueue()).length) setState("saved", "已保存");
      else if (inflight === 0 && outcome === "refused" && stateEl.getAttribute("data-state") !== "error") setState("error", "未保存：请检查标出的条目");
    });
    return chain;
  }

  function retryQueued() {
    var queue = loadQueue();
    Object.keys(queue).forEach(function (id) {
      var item = form.querySelector(".insp-item[data-item='" + id + "']");
      if (item) enqueue(item, false);
    });
  }

  form.addEventListener("change", function (ev) {
    var item = itemOf(ev.target);
    if (!item) return;
    clearTimeout(timers[item.getAttribute("data-item")]);
    if (ev.target.type === "radio") markFailed(item, ev.target.value === "no");
    enqueue(item, ev.target.type === "file");
  });

  form.addEventListener("input", function (ev) {
    var item = itemOf(ev.target);
    if (!item || ev.target.tagName !== "TEXTAREA") return;
    var id = item.getAttribute("data-item");
    setState("dirty", "未保存");
    clearTimeout(timers[id]);
    timers[id] = setTimeout(function () { enqueue(item, false); }, 800);
  });

  // Completing: the answers are already saved; wait for the last ones to reach the server first.
  form.addEventListener("submit", function (ev) {
    if (form.getAttribute("data-flushed")) return;
    ev.preventDefault();
    var submitter = ev.submitter;
    Object.keys(timers).forEach(function (id) {
      clearTimeout(timers[id]);
      var item = form.querySelector(".insp-item[data-item='" + id + "']");
      if (item) enqueue(item, false);
    });
    chain.then(function () {
      form.setAttribute("data-flushed", "1");
      if (submitter && submitter.name) {
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = submitter.name;
        hidden.value = submitter.value;
        form.appendChild(hidden);
      }
      form.submit();
    });
  });

  window.addEventListener("online", retryQueued);
  setInterval(function () { if (navigator.onLine && Object.keys(loadQueue()).length && inflight === 0) retryQueued(); }, 5000);
  if (enforcement && window.anjianLocate) window.anjianLocate(function (pos) { position = pos; });

  // Reopened with answers that never reached the server: show them and send them now.
  var pending = loadQueue();
  showPending(Object.keys(pending).length);
  Object.keys(pending).forEach(function (id) {
    var item = form.querySelector(".insp-item[data-item='" + id + "']");
    if (item) writeItem(item, pending[id]);
  });
  if (Object.keys(pending).length) retryQueued();
})();
