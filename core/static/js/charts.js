// Charts drawn from the tables they stand for (issue 17): a <figure class="chart" data-chart="line|bar"> holds a
// <table> whose first row names the series and whose first column names the categories; ECharts (served from
// /static/vendor, installed from npm by scripts/setup) draws it above the table. Without the library, or without
// JavaScript, the table is the chart; screen readers always get the table. Clicking a point follows the link of
// the table cell it stands for, so a chart number drills down exactly as the table number does.
(function () {
  "use strict";
  if (!window.echarts) { return; }

  function cellValue(cell) {
    var n = parseFloat((cell.textContent || "").replace(/[^0-9.\-]/g, ""));
    return isNaN(n) ? null : n;
  }

  function readTable(table) {
    var head = table.tHead ? table.tHead.rows[0] : table.rows[0];
    var names = [];
    for (var c = 1; c < head.cells.length; c++) { names.push(head.cells[c].textContent.trim()); }
    var categories = [], values = names.map(function () { return []; }), links = names.map(function () { return []; });
    var body = table.tBodies[0];
    for (var r = 0; r < body.rows.length; r++) {
      var row = body.rows[r];
      categories.push(row.cells[0].textContent.trim());
      for (var s = 0; s < names.length; s++) {
        var cell = row.cells[s + 1];
        var a = cell ? cell.querySelector("a") : null;
        values[s].push(cell ? cellValue(cell) : null);
        links[s].push(a ? a.getAttribute("href") : null);
      }
    }
    return {names: names, categories: categories, values: values, links: links};
  }

  function draw(figure) {
    var table = figure.querySelector("table");
    var box = figure.querySelector(".chart-canvas");
    if (!table || !box) { return; }
    var data = readTable(table);
    var kind = figure.getAttribute("data-chart") || "bar";
    var percentAxis = figure.getAttribute("data-percent-series");
    figure.classList.add("chart-drawn");  // shows the canvas first: ECharts measures its box when it starts
    var chart = window.echarts.init(box, null, {renderer: "svg"});
    chart.setOption({
      animation: false,
      tooltip: {trigger: "axis"},
      legend: {top: 0, type: "scroll"},
      grid: {left: 40, right: percentAxis ? 44 : 12, top: 36, bottom: 28, containLabel: true},
      xAxis: {type: "category", data: data.categories, axisLabel: {hideOverlap: true}},
      yAxis: percentAxis ? [{type: "value", minInterval: 1}, {type: "value", max: 100, axisLabel: {formatter: "{value}%"}}]
                         : [{type: "value", minInterval: 1}],
      series: data.names.map(function (name, i) {
        var isPercent = percentAxis && name === percentAxis;
        return {name: name, type: isPercent ? "line" : kind, yAxisIndex: isPercent ? 1 : 0, data: data.values[i],
                connectNulls: false, label: {show: false}};
      })
    });
    chart.on("click", function (p) {
      var href = data.links[p.seriesIndex] && data.links[p.seriesIndex][p.dataIndex];
      if (href) { window.location.href = href; }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  document.querySelectorAll("figure.chart").forEach(draw);
})();
