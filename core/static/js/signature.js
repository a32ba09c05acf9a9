/* Signature pads of an enforcement run (templates/inspections/_signatures.html).
 *
 * Each .sig-pad holds a canvas drawn on with pointer events (finger, stylus or mouse; touch-action is off on the
 * canvas so the page does not scroll while signing), a 清除 button and a 确认签名 button. Confirming posts the drawing
 * as a PNG (transparent ground, dark strokes) with the pad's role, the on-site person's name and title, the CSRF
 * token and the device's position (window.anjianLocate from inspection.js) to the pad's data-sign-url; the server
 * checks the PNG (not blank, at most 200 KB) and the signer's certificate. On success the page reloads to show
 * the signature; a refusal is shown under the pad and nothing is lost from the drawing.
 */
(function () {
  "use strict";
  var csrfInput = document.querySelector("input[name=csrf_token]");
  var csrf = csrfInput ? csrfInput.value : "";

  // One key per pad and page: a retry after a lost answer replays the first signature instead of adding a
  // second (core/views/idempotency.py). getRandomValues works on plain http too, unlike randomUUID.
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function setup(pad) {
    var key = newKey();
    var canvas = pad.querySelector("[data-canvas]");
    var msg = pad.querySelector("[data-msg]");
    var ctx = canvas.getContext("2d");
    var drawing = false;
    var strokes = 0;
    var lastPoint = null;

    function size() {
      var ratio = window.devicePixelRatio || 1;
      var width = canvas.clientWidth;
      var height = canvas.clientHeight;
      if (!width || !height) return;
      var keep = strokes ? canvas.toDataURL("image/png") : null;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2.6;
      if (keep) {
        var img = new Image();
        img.onload = function () { ctx.drawImage(img, 0, 0, width, height); };
        img.src = keep;
      }
    }

    function point(ev) {
      var rect = canvas.getBoundingClientRect();
      return { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
    }

    canvas.addEventListener("pointerdown", function (ev) {
      ev.preventDefault();
      drawing = true;
      lastPoint = point(ev);
      if (canvas.setPointerCapture) canvas.setPointerCapture(ev.pointerId);
      ctx.beginPath();
      ctx.arc(lastPoint.x, lastPoint.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = "#111";
      ctx.fill();
      strokes++;
      pad.classList.add("has-ink");
    });
    canvas.addEventListener("pointermove", function (ev) {
      if (!drawing) return;
      ev.preventDefault();
      var p = point(ev);
      ctx.beginPath();
      ctx.moveTo(lastPoint.x, lastPoint.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      lastPoint = p;
    });
    ["pointerup", "pointercancel", "pointerleave"].forEach(function (name) {
      canvas.addEventListener(name, function () { drawing = false; });
    });

    pad.querySelector("[data-clear]").addEventListener("click", function () {
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      strokes = 0;
      pad.classList.remove("has-ink");
      msg.textContent = "";
    });

    pad.querySelector("[data-save]").addEventListener("click", function () {
      var button = this;
      if (!strokes) { msg.textContent = "请先在签名框内签名"; return; }
      var name = pad.querySelector("[data-field=name]");
      if (name && !name.value.trim()) { msg.textContent = "请填写现场负责人姓名"; name.focus(); return; }
      button.disabled = true;
      msg.textContent = "正在提交签名…";
      var locate = window.anjianLocate || function (cb) { cb({ gps_missing: "unsupported" }); };
      locate(function (pos) {
        canvas.toBlob(function (blob) {
          var body = new FormData();
          body.append("role", pad.getAttribute("data-role"));
          pad.querySelectorAll("[data-field]").forEach(function (input) {
            body.append(input.getAttribute("data-field"), input.value);
          });
          Object.keys(pos).forEach(function (k) { body.append(k, pos[k]); });
          body.append("image", blob, "signature.png");
          fetch(pad.getAttribute("data-sign-url"), {
            method: "POST", body: body, credentials: "same-origin",
            headers: { "X-CSRFToken": csrf, "Accept": "application/json", "Idempotency-Key": key }
          }).then(function (resp) {
            return resp.json().catch(function () { return {}; }).then(function (json) { return { ok: resp.ok, json: json }; });
          }).then(function (r) {
            if (r.ok) { msg.textContent = "已签名"; window.location.reload(); return; }
            button.disabled = false;
            msg.textContent = (r.json && r.json.message) || "签名未保存，请重试";
          }, function () {
            button.disabled = false;
            msg.textContent = "网络中断：签名未提交，恢复网络后请再点“确认签名”";
          });
        }, "image/png");
      });
    });

    size();
    window.addEventListener("resize", size);
  }

  document.querySelectorAll(".sig-pad").forEach(setup);
})();
