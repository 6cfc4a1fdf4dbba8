// The page is drawn by its script at load, so what a headless browser dumps (--dump-dom) is the
// drawn SVG: one <g class="process"> header row per process, then its <g class="lane"> per gid,
// one <rect class="slice"> per job, a <path class="flow"> per hop and a <path class="flow remote">
// per call from one process to another (trace context).
#include "html_page.h"

namespace gidlog_trace {

namespace {

constexpr const char* head = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gidlog-trace timeline</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 12px; color: #222; }
#bar button { margin-right: 4px; }
#view { overflow-x: auto; border: 1px solid #ccc; margin-top: 8px; }
.label { font: 12px monospace; fill: #333; }
.lane-bg { fill: #f6f6f6; }
.slice { fill: #6a9fd8; stroke: #2f5f96; stroke-width: 0.5; cursor: pointer; }
.slice.sel { fill: #f0a040; }
.slice-text { font: 10px monospace; fill: #fff; pointer-events: none; }
.flow { stroke: #c04040; stroke-width: 1; fill: none; marker-end: url(#arrow); opacity: 0.7; }
.flow.remote { stroke: #2060c0; stroke-width: 1.5; stroke-dasharray: 4 2; marker-end: url(#arrow-remote); opacity: 0.9; }
.process-bg { fill: #e4e8f0; }
.process-label { font: bold 12px monospace; fill: #123; }
.instant { fill: #d02020; }
.axis { font: 10px monospace; fill: #666; }
#records { background: #fafafa; border: 1px solid #ddd; padding: 8px; white-space: pre; overflow-x: auto; min-height: 3em; }
</style></head>
<body>
<h3>gidlog-trace timeline <span id="start"></span></h3>
<div id="bar"><button id="zin">zoom in</button><button id="zout">zoom out</button><button id="zfit">fit</button>
<span id="hint">(ctrl + wheel zooms; click a job to see its records)</span></div>
<div id="view"></div>
<h4 id="title">records</h4>
<div id="records">click a slice</div>
<script type="application/json" id="data">)HTML";

constexpr const char* tail = R"HTML(</script>
<script>
"use strict";
(() => {  // nothing global: window already has names such as `top`
const data = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
const labelW = 260, laneH = 26, axisH = 24;
const view = document.getElementById("view");
let scale = 1;  // pixels per microsecond
function fit() { scale = Math.max(1e-6, (Math.max(600, view.clientWidth || 1200) - labelW - 60) / Math.max(1, data.end)); }
function el(name, attrs, parent, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function x(t) { return labelW + t * scale; }
function show(i) {
  const s = data.slices[i];
  document.querySelectorAll(".slice.sel").forEach(e => e.classList.remove("sel"));
  const r = document.querySelector('.slice[data-i="' + i + '"]');
  if (r) r.classList.add("sel");
  document.getElementById("title").textContent = s.name + ": " + s.info;
  document.getElementById("records").textContent = s.records.join("\n");
}
function draw() {
  view.textContent = "";
  const w = Math.ceil(x(data.end)) + 60, h = axisH + data.rows * laneH + 10;
  const rowY = row => axisH + row * laneH;
  const svg = el("svg", {width: w, height: h, id: "timeline"}, view);
  const defs = el("defs", {}, svg);
  const m = el("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto"}, defs);
  el("path", {d: "M0,0 L10,5 L0,10 z", fill: "#c04040"}, m);
  const mr = el("marker", {id: "arrow-remote", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto"}, defs);
  el("path", {d: "M0,0 L10,5 L0,10 z", fill: "#2060c0"}, mr);
  const steps = 8;
  for (let k = 0; k <= steps; k++) {
    const t = data.end * k / steps;
    el("text", {class: "axis", x: x(t), y: 14}, svg, (t / 1000).toFixed(t < 10000 ? 2 : 0) + " ms");
  }
  for (const p of data.processes) {  // a header row per process, its lanes below it
    const g = el("g", {class: "process", "data-process": p.name}, svg);
    el("rect", {class: "process-bg", x: 0, y: rowY(p.row), width: w, height: laneH - 2}, g);
    el("text", {class: "process-label", x: 4, y: rowY(p.row) + 16}, g, "process " + p.name);
  }
  data.lanes.forEach((ln, i) => {
    const g = el("g", {class: "lane", "data-gid": ln.gid, "data-process": ln.process}, svg);
    const y = rowY(ln.row);
    el("rect", {class: "lane-bg", x: 0, y: y, width: w, height: laneH - 2}, g);
    el("text", {class: "label", x: 4, y: y + 16}, g, "gid-" + ln.gid + (ln.name ? " " + ln.name : "") + " (" + ln.records + ")");
  });
  const lanes = svg.querySelectorAll("g.lane");
  data.slices.forEach((s, i) => {
    const y = rowY(data.lanes[s.lane].row) + 3, x0 = x(s.t0), wd = Math.max(2, (s.t1 - s.t0) * scale);
    const r = el("rect", {class: "slice", "data-i": i, x: x0, y: y, width: wd, height: laneH - 8}, lanes[s.lane]);
    el("title", {}, r, s.name + "\n" + s.info);
    r.addEventListener("click", () => show(i));
    if (wd > 60) el("text", {class: "slice-text", x: x0 + 3, y: y + 13}, lanes[s.lane], s.name);
  });
  for (const f of data.flows) {
    const y0 = rowY(data.lanes[f[0]].row) + laneH / 2, y1 = rowY(data.lanes[f[2]].row) + laneH / 2;
    const p = el("path", {class: f[4] ? "flow remote" : "flow", d: "M" + x(f[1]) + "," + y0 + " L" + x(f[3]) + "," + y1}, svg);
    if (f[4]) el("title", {}, p, "call from process " + data.lanes[f[0]].process + " to " + data.lanes[f[2]].process + " (traceparent)");
  }
  for (const e of data.instants) {
    const cx = x(e.t), cy = rowY(data.lanes[e.lane].row) + 4;
    const p = el("path", {class: "instant", d: "M" + (cx - 4) + "," + cy + " L" + (cx + 4) + "," + cy + " L" + cx + "," + (cy + 8) + " z"}, svg);
    el("title", {}, p, e.text);
  }
  document.body.setAttribute("data-lanes", data.lanes.length);
  document.body.setAttribute("data-processes", data.processes.length);
  document.body.setAttribute("data-remote-flows", data.flows.filter(f => f[4]).length);
  document.body.setAttribute("data-slices", data.slices.length);
}
function zoom(f, at) {  // keeps the time under `at` (pixels from the view's left) in place
  if (at === undefined) at = view.clientWidth / 2;
  const t = (view.scrollLeft + at - labelW) / scale;
  scale *= f;
  draw();
  view.scrollLeft = Math.max(0, labelW + t * scale - at);
}
document.getElementById("zin").onclick = () => zoom(2);
document.getElementById("zout").onclick = () => zoom(0.5);
document.getElementById("zfit").onclick = () => { fit(); draw(); };
view.addEventListener("wheel", ev => {
  if (!ev.ctrlKey) return;
  ev.preventDefault();
  zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX - view.getBoundingClientRect().left);
}, {passive: false});
document.getElementById("start").textContent = "from " + data.start;
fit();
draw();
if (data.slices.length > 0) show(0);
})();
</script>
</body></html>
)HTML";

}  // namespace

std::string html_page(const std::string& data) { return std::string(head) + data + tail; }

}  // namespace gidlog_trace
