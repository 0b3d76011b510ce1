// modstream dashboard: the model registry panel (/api/models): versions, roles, actions.
"use strict";

(() => {
  const REFRESH_MS = 3000;
  const panel = document.getElementById("models-panel");
  if (!panel) return;
  const rows = document.getElementById("models-rows");
  const history = document.getElementById("models-history");
  const status = document.getElementById("models-status");

  function cell(tag, text, cls) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(label, action, body, testid) {
    const b = cell("button", label, "small-button");
    b.type = "button";
    b.dataset.testid = testid;
    b.addEventListener("click", () => act(action, body));
    return b;
  }

  async function act(action, body) {
    status.textContent = `${action}…`;
    try {
      const resp = await fetch(`/api/models/${action}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answer = await resp.json();
      status.textContent = resp.ok
        ? answer.events.map((e) => `${e.event} ${e.version}`).join("; ")
        : `refused: ${answer.error}`;
    } catch (err) {
      status.textContent = `failed: ${err}`;
    }
    refresh();
  }

  function actions(v) {
    const td = cell("td", undefined, "actions");
    const box = cell("div");
    td.append(box);
    const roles = v.roles || [];
    if (v.retired) return td;
    if (!roles.includes("champion")) {
      box.append(button("Promote", "promote", { version: v.version }, `promote-${v.version}`));
      if (!roles.includes("shadow")) {
        box.append(button("Shadow", "shadow", { version: v.version }, `shadow-${v.version}`));
      }
      if (!roles.includes("canary")) {
        box.append(button("Canary 10%", "canary", { version: v.version, percent: 10 }, `canary-${v.version}`));
      }
    }
    if (roles.includes("shadow")) box.append(button("End shadow", "shadow", { version: null }, "end-shadow"));
    if (roles.includes("canary")) box.append(button("End canary", "canary", { version: null }, "end-canary"));
    return td;
  }

  function render(data) {
    panel.hidden = false;
    document.getElementById("models-topic").textContent = data.topic;
    rows.replaceChildren();
    for (const v of data.versions) {
      const tr = cell("tr");
      tr.dataset.version = v.version;
      tr.append(cell("td", v.version, "mono"));
      const role = cell("td");
      role.append(cell("span", v.role, `role ${v.roles.length ? v.roles[0] : v.retired ? "retired" : "none"}`));
      tr.append(role, cell("td", v.preset || "–"), cell("td", v.threshold === null ? "–" : v.threshold.toFixed(3)));
      const refused = Object.entries(v.refused_by || {});
      tr.append(cell("td", refused.length ? `refused by ${refused.map(([i]) => i).join(", ")}` : "", "refused"));
      tr.append(actions(v));
      rows.append(tr);
    }
    if (!data.versions.length) {
      const tr = cell("tr");
      const td = cell("td", "No version published yet: modstream models publish DIR --promote");
      td.colSpan = 6;
      tr.append(td);
      rows.append(tr);
    }
    history.replaceChildren(...data.history.map((h) => cell("li", `${h.at.slice(11, 19)}  ${h.event}  ${h.version}  (${h.by})`)));
  }

  async function refresh() {
    try {
      const resp = await fetch("/api/models");
      if (resp.status === 404) return; // no registry behind this dashboard
      if (resp.ok) render(await resp.json());
    } catch (err) {
      status.textContent = `registry unreachable: ${err}`;
    }
  }

  document.getElementById("rollback").addEventListener("click", () => act("rollback", {}));
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
