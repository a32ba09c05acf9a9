/* Risk register (双重预防): live score in the risk point form, and placing risk points on the site plan by a
   click on the four-colour map. Plain script, no libraries; both pages work without it (the server computes the
   grade on save, and the plan position can be typed). */
(function () {
  "use strict";

  function riskForm(form) {
    var methods = JSON.parse(form.getAttribute("data-methods"));
    var select = form.querySelector("select.risk-method");
    var result = form.querySelector(".risk-result");
    var blocks = form.querySelectorAll(".risk-factors");

    function update() {
      var code = select.value;
      var method = methods[code];
      var score = 1;
      var complete = true;
      blocks.forEach(function (block) {
        var on = block.getAttribute("data-method") === code;
        block.hidden = !on;
        block.querySelectorAll("select").forEach(function (s) { s.disabled = !on; });
        if (!on) { return; }
        block.querySelectorAll("select[data-factor]").forEach(function (s) {
          if (s.value === "") { complete = false; } else { score *= parseFloat(s.value); }
        });
      });
      if (!method || !complete) {
        result.textContent = "选择各项取值后显示风险值和等级（保存时由系统计算）。";
        return;
      }
      score = Math.round(score * 10000) / 10000;
      var label = method.low;
      for (var i = 0; i < method.bands.length; i++) {
        var b = method.bands[i];
        if (b.inclusive ? score >= b.min : score > b.min) { label = b.label; break; }
      }
      result.textContent = "计算结果：" + method.score_name + " = " + score + " → " + label;
    }
    select.addEventListener("change", update);
    form.addEventListener("change", update);
    update();
  }

  function placement(svg, form) {
    var choice = document.getElementById("risk-place-point");
    var hint = document.getElementById("risk-place-hint");
    var width = parseFloat(svg.getAttribute("data-width"));
    var height = parseFloat(svg.getAttribute("data-height"));

    function target() {
      var opt = choice.options[choice.selectedIndex];
      return opt && opt.value ? opt : null;
    }
    choice.addEventListener("change", function () {
      if (target()) { hint.textContent = "请在平面图上点击“" + choice.options[choice.selectedIndex].text.trim() + "”的位置。"; }
    });
    form.addEventListener("submit", function (event) {
      if (!target()) { event.preventDefault(); hint.textContent = "请先选择要放置的风险点。"; }
    });
    svg.addEventListener("click", function (event) {
      if (event.target.closest && event.target.closest("a")) { return; }  // a marker: follow its link
      var opt = target();
      if (!opt) { hint.textContent = "请先在下方选择要放置的风险点，再点击平面图。"; return; }
      var pt = svg.createSVGPoint();
      pt.x = event.clientX;
      pt.y = event.clientY;
      var local = pt.matrixTransform(svg.getScreenCTM().inverse());
      if (local.x < 0 || local.y < 0 || local.x > width || local.y > height) { return; }
      form.elements.plan_x.value = (local.x / width).toFixed(3);
      form.elements.plan_y.value = (local.y / height).toFixed(3);
      hint.textContent = "正在保存位置……";
      form.submit();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form.risk-form[data-methods]").forEach(riskForm);
    var svg = document.querySelector("svg.risk-map-svg[data-kind=plan]");
    var form = document.getElementById("risk-place-form");
    if (svg && form) {
      svg.classList.add("placing");
      placement(svg, form);
    }
  });
})();
