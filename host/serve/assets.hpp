#pragma once
// The only style sheet and script gantry serve's pages load, carried in the program: the pages
// work with no network and nothing is ever read from disk for a request.
#include <string_view>

namespace gantry::serve::assets {

inline constexpr std::string_view style_css = R"CSS(body { font-family: sans-serif; margin: 1.5em 2em; color: #222; }
nav { margin-bottom: 0.5em; } a { color: #0057a0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; } th a { color: inherit; text-decoration: none; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.s-completed { color: #1b7f3b; } .s-running { color: #0057a0; font-weight: bold; } .s-queued { color: #777; }
.s-failed, .s-diverged { color: #b00020; } .s-interrupted { color: #a65e00; }
pre { background: #f6f6f6; padding: 0.5em; overflow-x: auto; white-space: pre-wrap; }
.samples img { image-rendering: pixelated; max-width: 480px; border: 1px solid #ccc; }
.samples input { width: 480px; }
form { margin: 0.5em 0; }
)CSS";

// Polls the small JSON endpoints every 2 s: counts and unfinished runs of the experiment on the
// page, then the curves when anything moved; a run's status on its page; swaps the samples
// picture when the slider moves. Everything from the server is set as text, never as markup.
inline constexpr std::string_view live_js = R"JS("use strict";
(function () {
  const every = 2000;
  function getJson(url) { return fetch(url, {cache: "no-store"}).then(r => r.ok ? r.json() : Promise.reject(r.status)); }
  function setStatus(cell, status) { cell.textContent = status; cell.className = "status s-" + status; }
  function refreshCurves() {
    document.querySelectorAll("div.curves[data-src]").forEach(div => {
      fetch(div.dataset.src, {cache: "no-store"}).then(r => r.ok ? r.text() : Promise.reject(r.status)).then(text => {
        const svg = new DOMParser().parseFromString(text, "image/svg+xml").documentElement;
        if (svg.nodeName === "svg") div.replaceChildren(document.importNode(svg, true));
      }).catch(() => {});
    });
  }
  function updateRow(run) {
    const row = document.querySelector('tr[data-run="' + run.id + '"]');
    if (!row) return;
    const status = row.querySelector("td.status"), step = row.querySelector("td.step");
    if (status) setStatus(status, run.status);
    if (step) step.textContent = String(run.step);
  }
  const counts = document.getElementById("counts");
  if (counts) {
    const id = counts.dataset.experiment;
    let active = new Set(), last = "";
    const poll = () => getJson("/api/experiment/" + id + "/live").then(live => {
      counts.textContent = Object.entries(live.counts).map(([s, n]) => n + " " + s).join(", ");
      const now = new Set(live.active.map(r => r.id));
      live.active.forEach(updateRow);
      active.forEach(run => { if (!now.has(run)) getJson("/api/run/" + run).then(updateRow).catch(() => {}); });
      active = now;
      const state = JSON.stringify(live);
      if (last !== "" && state !== last) refreshCurves();
      last = state;
    }).catch(() => {}).finally(() => setTimeout(poll, every));
    poll();
  }
  const runStatus = document.querySelector("span.status[data-run]");
  if (runStatus && ["queued", "running"].includes(runStatus.textContent)) {
    const step = document.querySelector("span.run-step");
    const poll = () => getJson("/api/run/" + runStatus.dataset.run).then(run => {
      setStatus(runStatus, run.status);
      if (step) step.textContent = String(run.step);
      if (["queued", "running"].includes(run.status)) setTimeout(poll, every);
    }).catch(() => setTimeout(poll, every));
    setTimeout(poll, every);
  }
  document.querySelectorAll("div.samples[data-steps]").forEach(div => {
    const steps = div.dataset.steps.split(","), slider = div.querySelector("input"), img = div.querySelector("img");
    const label = div.querySelector("span.step");
    slider.addEventListener("input", () => {
      const s = steps[Number(slider.value)];
      img.src = "/artifact/" + div.dataset.run + "/" + s;
      img.alt = "samples at step " + s;
      label.textContent = s;
    });
  });
})();
)JS";

}  // namespace gantry::serve::assets
