// modstream dashboard: quality from moderators' decisions (/api/quality), the drift banner,
// and the "moderator: remove / keep" buttons on comment cards (/api/decisions).
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = { precision: "#3949ab", recall: "#2e7d32", f1: "#c62828" };
  const panel = document.getElementById("quality-panel");
  if (!panel) return;
  const byId = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const num = (x, digits = 3) => (x === null || x === undefined ? "–" : x.toFixed(digits));
  const share = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);

  function duration(s) {
    if (s === null || s === undefined) return "–";
    if (s < 90) return `${Math.round(s)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    return `${(s / 3600).toFixed(1)} h`;
  }

  function prf(w) {
    return `${num(w.precision, 2)} / ${num(w.recall, 2)} / ${num(w.f1, 2)}`;
  }

  function versionRow(name, v) {
    const w = v.windows;
    const s = w.since_start;
    const row = el("tr");
    row.dataset.version = name;
    row.append(el("td", name, "mono"), el("td", v.role, `role ${v.role}`));
    row.append(el("td", s.labelled.toLocaleString()), el("td", share(s.coverage)));
    [w.last_n, w.hour, w.day, s].forEach((x) => row.append(el("td", prf(x), "prf")));
    row.append(el("td", num(s.roc_auc)), el("td", num(s.pr_auc)), el("td", num(s.brier)));
    row.append(el("td", `${duration(s.label_delay_s.p50)} / ${duration(s.label_delay_s.p95)}`));
    return row;
  }

  function polyline(points, color) {
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    line.setAttribute("stroke", color);
    return line;
  }

  function grid(svg) {
    [0, 0.5, 1].forEach((y) => {
      const line = polyline([`10,${110 - y * 100}`, `310,${110 - y * 100}`], "#e1e4ea");
      line.setAttribute("class", "grid");
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", "0");
      label.setAttribute("y", String(113 - y * 100));
      label.textContent = y.toFixed(1);
      svg.append(line, label);
    });
  }

  function renderTrend(history, version) {
    const svg = byId("quality-trend");
    svg.replaceChildren();
    grid(svg);
    const points = history.filter((p) => p.versions[version]);
    if (points.length < 2) return;
    const step = 300 / (points.length - 1);
    Object.entries(COLORS).forEach(([metric, color]) => {
      const xy = points
        .map((p, i) => [i * step + 10, p.versions[version][metric]])
        .filter(([, y]) => y !== null)
        .map(([x, y]) => `${x.toFixed(1)},${(110 - y * 100).toFixed(1)}`);
      if (xy.length) svg.append(polyline(xy, color));
    });
  }

  function renderReliability(bins) {
    const svg = byId("reliability");
    svg.replaceChildren(polyline(["10,110", "110,10"], "#9e9e9e"));
    const xy = bins
      .filter((b) => b.count > 0)
      .map((b) => `${(10 + b.mean_score * 100).toFixed(1)},${(110 - b.removed_rate * 100).toFixed(1)}`);
    if (xy.length) svg.append(polyline(xy, COLORS.precision));
    bins.filter((b) => b.count > 0).forEach((b) => {
      const dot = document.createElementNS(SVG, "circle");
      dot.setAttribute("cx", (10 + b.mean_score * 100).toFixed(1));
      dot.setAttribute("cy", (110 - b.removed_rate * 100).toFixed(1));
      dot.setAttribute("r", "2.5");
      dot.append(Object.assign(document.createElementNS(SVG, "title"), {
        textContent: `${b.count} comments scored ${share(b.low)}–${share(b.high)}: ${share(b.removed_rate)} removed`,
      }));
      svg.append(dot);
    });
  }

  function renderCommunities(rows) {
    const body = byId("community-rows");
    body.replaceChildren();
    rows.slice(0, 12).forEach((c) => {
      const row = el("tr");
      row.append(el("td", c.community || "(none)"), el("td", c.labelled.toLocaleString()));
      row.append(el("td", prf(c), "prf"), el("td", prf(c.day), "prf"), el("td", share(c.coverage)));
      body.append(row);
    });
  }

  function renderDrift(drift) {
    const banner = byId("drift-banner");
    const raised = Object.entries(drift).filter(([, d]) => d.alert);
    banner.hidden = raised.length === 0;
    if (!raised.length) return;
    const parts = raised.map(([version, d]) => {
      const over = Object.entries(d.statistics)
        .filter(([k, v]) => k.endsWith("_psi") && v !== null)
        .map(([k, v]) => `${k.replace("_psi", "")} PSI ${v.toFixed(2)}`);
      return `version ${version} (${over.join(", ")}; predicted removed ${share(d.statistics.predicted_removed_share)})`;
    });
    banner.replaceChildren(el("strong", "DRIFT"), document.createTextNode(
      ` Live comments no longer look like the training data: ${parts.join("; ")}.`));
  }

  function champion(versions) {
    const names = Object.keys(versions);
    return names.find((n) => versions[n].role === "champion") || names[0];
  }

  function render(q) {
    panel.hidden = false;
    document.body.classList.toggle("decisions-on", Boolean(q.decisions_topic));
    const versions = q.versions || {};
    const body = byId("quality-rows");
    body.replaceChildren(...Object.entries(versions).map(([n, v]) => versionRow(n, v)));
    const t = q.totals;
    byId("quality-totals").textContent = `${t.decisions_read.toLocaleString()} decisions read · ` +
      `${t.pending_predictions.toLocaleString()} predictions waiting for one · ` +
      `last ${q.windows.last_n} labels, hour, day, since start`;
    renderDrift(q.drift || {});
    const main = champion(versions);
    byId("quality-empty").hidden = Boolean(main);
    if (!main) return;
    byId("trend-version").textContent = main;
    renderTrend(q.history || [], main);
    renderReliability(versions[main].windows.since_start.reliability);
    renderCommunities(versions[main].communities);
  }

  async function refresh() {
    try {
      const resp = await fetch("/api/quality");
      const q = await resp.json();
      if (!resp.ok) throw new Error(q.error || resp.statusText);
      if (q.enabled === false) return;
      render(q);
      byId("quality-status").textContent = "";
    } catch (err) {
      byId("quality-status").textContent = `Quality not available: ${err.message}`;
    }
  }

  async function decide(card, c, removed) {
    const status = card.querySelector(".decision");
    status.textContent = "sending…";
    try {
      const resp = await fetch("/api/decisions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: c.comment_id, removed }),
      });
      const answer = await resp.json();
      if (!resp.ok) throw new Error(answer.error || resp.statusText);
      status.textContent = `moderator: ${removed ? "removed" : "kept"}`;
      card.dataset.decision = removed ? "removed" : "kept";
    } catch (err) {
      status.textContent = `not sent: ${err.message}`;
    }
  }

  // app.js calls this for every comment card it draws; the buttons show once the monitor
  // answers with a decisions topic (body.decisions-on).
  window.onCommentCard = (card, c) => {
    if (c.error || !c.comment_id) return;
    const row = el("p", undefined, "moderate");
    row.append(el("span", "Moderator:"));
    [["remove", true], ["keep", false]].forEach(([label, removed]) => {
      const b = el("button", label, "small-button");
      b.type = "button";
      b.dataset.testid = `decide-${label}`;
      b.addEventListener("click", () => decide(card, c, removed));
      row.append(b);
    });
    row.append(el("span", "", "decision"));
    card.append(row);
  };

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
