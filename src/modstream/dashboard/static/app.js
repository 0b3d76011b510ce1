// modstream dashboard: live numbers and verdicts from server-sent events (/api/events).
"use strict";

const MAX_SHOWN = 40;
const $ = (id) => document.getElementById(id);
const state = { threshold: 0.5, mine: new Map(), seen: new Map() };

function pct(p) {
  return `${Math.round(p * 100)}%`;
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function renderWhy(node, c) {
  node.replaceChildren();
  if (c.error) {
    node.append(el("span", "", `Why: ${c.error}`));
    return;
  }
  const up = (c.why || []).filter((w) => w.towards === "removal");
  const down = (c.why || []).filter((w) => w.towards === "keeping");
  if (!up.length && !down.length) {
    node.append(el("span", "", c.why ? "No single word stood out." : "Explaining…"));
    return;
  }
  node.append(el("span", "", "Why:"));
  if (up.length) {
    node.append(el("span", "", "more likely removed because of"));
    up.forEach((w) => node.append(el("span", "chip up", w.text)));
  }
  if (down.length) {
    node.append(el("span", "", up.length ? "; kept more likely by" : "more likely kept because of"));
    down.forEach((w) => node.append(el("span", "chip down", w.text)));
  }
}

function renderComment(c, fresh) {
  const node = $("comment-tpl").content.firstElementChild.cloneNode(true);
  const kind = c.error ? "failed" : c.removed ? "removed" : "kept";
  node.classList.add(kind);
  if (fresh) node.classList.add("fresh");
  node.dataset.id = c.id;
  if (c.sent_id) node.dataset.sentId = c.sent_id;
  const badge = node.querySelector(".badge");
  badge.classList.add(kind);
  badge.textContent = c.error ? "Could not score" : c.removed ? "Likely removed" : "Likely kept";
  const bar = node.querySelector(".bar");
  const pctNode = node.querySelector(".pct");
  if (c.error) {
    bar.remove();
    pctNode.textContent = "sent to the dead-letter topic";
  } else {
    node.querySelector(".fill").style.width = pct(c.p_removed);
    node.querySelector(".tick").style.left = pct(state.threshold);
    bar.setAttribute("aria-label", `removal probability ${pct(c.p_removed)}`);
    bar.title = `removal probability ${pct(c.p_removed)}; removed at ${pct(state.threshold)} or more`;
    pctNode.textContent = `${pct(c.p_removed)} chance of removal`;
  }
  node.querySelector(".text").textContent = c.text === null ? "(text not available)" : c.text;
  renderWhy(node.querySelector(".why"), c);
  const meta = node.querySelector(".meta");
  if (state.mine.has(c.sent_id)) meta.append(el("span", "mine", "your comment"));
  const when = new Date(c.at_ms).toLocaleTimeString();
  const latency = c.latency_ms === null ? "" : ` · verdict in ${fmtMs(c.latency_ms)}`;
  meta.append(document.createTextNode(`${when}${latency} · ${c.source}`));
  if (window.onCommentCard) window.onCommentCard(node, c); // quality.js: moderator buttons
  return node;
}

function addComment(c, fresh) {
  state.seen.set(c.sent_id || c.id, c);
  if (state.seen.size > 500) state.seen.delete(state.seen.keys().next().value);
  const list = $("comments");
  list.prepend(renderComment(c, fresh));
  while (list.children.length > MAX_SHOWN) list.lastElementChild.remove();
  $("empty").hidden = list.children.length > 0;
  if (c.sent_id && state.mine.has(c.sent_id)) showMine(c);
}

function showMine(c) {
  const sent = state.mine.get(c.sent_id);
  $("my-result").replaceChildren(renderComment(c, true));
  const took = sent ? ` in ${fmtMs(performance.now() - sent)}` : "";
  setStatus(c.error ? "The worker could not score it." : `Scored${took}.`);
}

function setStatus(text, error) {
  const node = $("send-status");
  node.textContent = text;
  node.classList.toggle("error", Boolean(error));
}

function renderStats(s) {
  $("stat-scored").textContent = s.scored.toLocaleString();
  $("stat-removed-share").textContent = s.scored
    ? `${pct(s.removed / s.scored)} likely removed`
    : "since start";
  $("stat-rate").textContent = s.per_second.toFixed(1);
  $("stat-latency").textContent = fmtMs(s.latency_ms_p50);
  $("stat-latency-hint").textContent = s.latency_ms_p95 === null
    ? "from posting to prediction"
    : `median; 95% within ${fmtMs(s.latency_ms_p95)}`;
  $("stat-waiting").textContent = s.waiting.toLocaleString();
  $("stat-dead").textContent = s.dead_letters.toLocaleString();
  $("dead-card").classList.toggle("alert", s.dead_letters > 0);
  const max = Math.max(1, ...s.history);
  const step = 120 / Math.max(1, s.history.length - 1);
  const points = s.history.map((v, i) => `${(i * step).toFixed(1)},${(27 - (v / max) * 25).toFixed(1)}`);
  $("spark").querySelector("polyline").setAttribute("points", points.join(" "));
}

function renderSnapshot(snap) {
  const m = snap.model;
  state.threshold = m.threshold;
  const model = $("model");
  model.replaceChildren();
  if (m.demo) model.append(el("span", "tag", "DEMO"));
  model.append(document.createTextNode(
    `model “${m.name}” v${m.version} · preset ${m.preset} · removed at ${pct(m.threshold)} or more`));
  $("demo-banner").hidden = !m.demo;
  const c = snap.config;
  $("input-topic").textContent = c.input_topic;
  $("cmd-produce").textContent = c.links.produce || "";
  $("cmd-curl").textContent = c.links.curl || "";
  $("where").textContent = `Kafka ${c.bootstrap_servers}: ${c.input_topic} → ${c.output_topic}` +
    ` (dead letters: ${c.dead_letter_topic}) · REST ${c.links.rest || ""} · gRPC ${c.links.grpc || ""}`;
  $("comments").replaceChildren();
  snap.comments.slice().reverse().forEach((x) => addComment(x, false));
  $("empty").hidden = snap.comments.length > 0;
  renderStats(snap.stats);
}

function connect() {
  const source = new EventSource("/api/events");
  const conn = $("conn");
  source.onopen = () => { conn.dataset.state = "live"; $("conn-text").textContent = "live"; };
  source.onerror = () => { conn.dataset.state = "lost"; $("conn-text").textContent = "reconnecting"; };
  source.addEventListener("snapshot", (e) => renderSnapshot(JSON.parse(e.data)));
  source.addEventListener("stats", (e) => renderStats(JSON.parse(e.data)));
  source.addEventListener("comment", (e) => addComment(JSON.parse(e.data), true));
}

async function send(event) {
  event.preventDefault();
  const text = $("comment").value.trim();
  if (!text) { setStatus("Write a comment first.", true); return; }
  $("send").disabled = true;
  setStatus("Sending…");
  try {
    const response = await fetch("/api/comments", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    state.mine.set(body.id, performance.now());
    $("my-result").replaceChildren();
    setStatus(`Sent to ${body.topic} (partition ${body.partition}, offset ${body.offset}). Waiting for the verdict…`);
    $("comment").value = "";
    const early = state.seen.get(body.id);
    if (early) showMine(early);
  } catch (err) {
    setStatus(`Not sent: ${err.message}`, true);
  } finally {
    $("send").disabled = false;
  }
}

$("send-form").addEventListener("submit", send);
$("comment").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("send-form").requestSubmit();
});
connect();
