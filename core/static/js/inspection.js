/* Inspection run page: autosave each answer as it changes (templates/inspections/run.html).
 *
 * Every change posts that one item to the run's JSON answer endpoint with the CSRF token header. Requests go out
 * one at a time so that each carries the answer version returned by the previous one. When the network is down the
 * item is queued in localStorage (per run) and retried when the browser is back online, on the next change, and
 * when the page is opened again; photos cannot be queued and are reported instead. The state line says
 * 已保存 / 保存中 / 未保存. Without JavaScript the form posts everything to the fallback route.
 */
(function () {
  "use strict";
  var form = document.getElementById("insp-form");
  if (!form || !window.fetch) return;
  form.classList.add("js");
  var url = form.getAttribute("data-answer-url");
  var csrf = form.querySelector("input[name=csrf_token]").value;
  var key = "anjian-inspection-" + form.getAttribute("data-run");
  var stateEl = document.getElementById("insp-state");
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
  setInterval(function () { if (navigator.onLine && Object.keys(loadQueue()).length && inflight === 0) retryQueued(); }, 15000);

  // Reopened with answers that never reached the server: show them and send them now.
  var pending = loadQueue();
  Object.keys(pending).forEach(function (id) {
    var item = form.querySelector(".insp-item[data-item='" + id + "']");
    if (item) writeItem(item, pending[id]);
  });
  if (Object.keys(pending).length) retryQueued();
})();
