// The web page: plain JS talking to /api/v1. No build step, no framework.
"use strict";

const API = "/api/v1";
const STAGES = ["queued", "starting", "loading", "understanding", "fitting", "diagnostics",
  "charts", "interpreting", "writing"];
const $ = (id) => document.getElementById(id);
let upload = null;
let polling = null;

function token() { return sessionStorage.getItem("apiToken") || ""; }

function headers(extra = {}) {
  const h = { ...extra };
  if (token()) h.Authorization = `Bearer ${token()}`;
  return h;
}

// Turn any failure into one sentence a person can act on.
async function explain(response) {
  let detail = "";
  try {
    const body = await response.json();
    detail = Array.isArray(body.detail)
      ? body.detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ")
      : body.detail;
  } catch (_) { /* not JSON */ }
  const plain = {
    401: "This server needs an API token. Enter it above and try again.",
    413: detail || "The file is too large for this server.",
    415: detail || "This kind of file is not supported. Use CSV or Excel.",
    429: "The server is busy. Please wait a moment and try again.",
  }[response.status];
  if (response.status === 401) $("token-box").hidden = false;
  return plain || detail || `The server answered ${response.status}.`;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

async function api(path, options = {}) {
  let response;
  try {
    response = await fetch(API + path, { ...options, headers: headers(options.headers) });
  } catch (_) {
    throw new Error("The server cannot be reached. Check your connection and try again.");
  }
  if (!response.ok) throw new Error(await explain(response));
  return response;
}

function fmt(value, digits = 4) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (value !== 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) return value.toPrecision(digits);
  return value.toFixed(digits);
}

function fmtP(p) {
  if (p === null || p === undefined) return "–";
  return p < 0.001 ? "< 0.001" : p.toFixed(3);
}

function cell(tag, text, className) {
  const el = document.createElement(tag);
  el.textContent = text;
  if (className) el.className = className;
  return el;
}

function fillTable(table, head, rows) {
  table.replaceChildren();
  const tr = document.createElement("tr");
  head.forEach((h) => {
    // a heading is a plain string, or {label, sub} for a second, smaller line
    const th = cell("th", typeof h === "string" ? h : h.label);
    if (typeof h !== "string" && h.sub) th.appendChild(cell("small", h.sub));
    tr.appendChild(th);
  });
  table.appendChild(tr);
  rows.forEach((row) => {
    const r = document.createElement("tr");
    row.forEach((v) => r.appendChild(v instanceof Node ? v : cell("td", v)));
    table.appendChild(r);
  });
}

async function sendFile(file) {
  showError("");
  $("results").hidden = true;
  $("progress").hidden = true;
  $("upload-status").textContent = `Uploading ${file.name}…`;
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const response = await api("/upload", { method: "POST", body: form });
    upload = await response.json();
  } catch (err) {
    $("upload-status").textContent = "CSV, TSV, TXT, XLSX, XLSM or XLS.";
    $("setup").hidden = true;
    showError(err.message);
    return;
  }
  $("upload-status").textContent = `${upload.filename} uploaded (${(upload.size / 1024).toFixed(1)} KB).`;
  showPreview(upload);
}

function showPreview(info) {
  $("filename").textContent = info.filename;
  const cols = info.preview.columns;
  fillTable($("preview"), cols.map((c) => ({ label: c.name, sub: c.dtype })),
    info.preview.rows.map((row) => cols.map((c) => fmtCell(row[c.name]))));
  const select = $("target");
  select.replaceChildren(new Option("Let the analyzer choose", ""));
  cols.forEach((c) => select.appendChild(new Option(c.name, c.name)));
  $("setup").hidden = false;
  $("start").disabled = false;
}

function fmtCell(v) {
  if (v === null || v === undefined) return "";
  return typeof v === "number" && !Number.isInteger(v) ? fmt(v, 4) : String(v);
}

async function startAnalysis(event) {
  event.preventDefault();
  if (!upload) return;
  showError("");
  $("start").disabled = true;
  const body = {
    upload_id: upload.upload_id,
    target: $("target").value || null,
    event: $("event").value.trim() || null,
    context: $("context").value.trim() || null,
    robust: $("robust").checked,
    skip_llm: $("skip-llm").checked,
  };
  try {
    const response = await api("/analyze", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const job = await response.json();
    $("results").hidden = true;
    $("progress").hidden = false;
    follow(job.job_id);
  } catch (err) {
    showError(err.message);
    $("start").disabled = false;
  }
}

function follow(jobId) {
  clearInterval(polling);
  const tick = async () => {
    let job;
    try {
      job = await (await api(`/results/${jobId}`)).json();
    } catch (err) {
      clearInterval(polling);
      showError(err.message);
      $("start").disabled = false;
      return;
    }
    const stage = job.status === "running" ? job.stage || "running" : job.status;
    $("stage").textContent = `${job.status === "running" ? "Running" : "Waiting"}: ${stage}`;
    $("bar").value = Math.max(0, STAGES.indexOf(stage));
    if (job.status === "completed") {
      clearInterval(polling);
      $("progress").hidden = true;
      $("start").disabled = false;
      showResults(job);
    } else if (job.status === "failed") {
      clearInterval(polling);
      $("progress").hidden = true;
      $("start").disabled = false;
      showError(`The analysis failed: ${job.error}`);
    }
  };
  polling = setInterval(tick, 700);
  tick();
}

function card(label, value) {
  const div = document.createElement("div");
  div.className = "card";
  div.append(cell("div", label, "label"), cell("div", value, "value"));
  return div;
}

function showResults(job) {
  const r = job.report;
  const m = r.model;
  $("target-name").textContent = `${r.target} (${r.target_reason})`;
  const cards = [
    card("Model", m.kind === "ols" ? "Linear (OLS)" : "Logistic"),
    card(m.kind === "ols" ? "R²" : "Pseudo-R²", fmt(m.r_squared, 3)),
    card("Observations", String(m.n_obs)),
  ];
  if (m.adj_r_squared !== null) cards.push(card("Adjusted R²", fmt(m.adj_r_squared, 3)));
  if (m.rmse !== null) cards.push(card("RMSE", fmt(m.rmse, 3)));
  if (m.f_p_value !== null) cards.push(card("p (F test)", fmtP(m.f_p_value)));
  if (m.event !== null) cards.push(card("Event (coded 1)", `${m.event} vs ${m.non_event}`));
  if (m.accuracy !== null) cards.push(card("Accuracy", fmt(m.accuracy, 3)));
  if (r.diagnostics.cross_validation) {
    cards.push(card(`${r.diagnostics.cross_validation.folds}-fold CV`,
      fmt(r.diagnostics.cross_validation.r_squared, 3)));
  }
  $("numbers").replaceChildren(...cards);
  $("interpretation").textContent = r.interpretation;
  const logit = m.kind === "logit";
  fillTable($("coefficients"),
    ["Term", "Estimate", "Std. error", logit ? "z" : "t", "p", "95% CI", logit ? "Odds ratio" : "Standardized"],
    m.coefficients.map((c) => [
      c.name, fmt(c.estimate), fmt(c.std_error), fmt(c.statistic, 3),
      cell("td", fmtP(c.p_value), c.p_value < 0.05 ? "sig" : ""),
      `[${fmt(c.ci_low)}, ${fmt(c.ci_high)}]`,
      fmt(logit ? c.odds_ratio : c.standardized, 3),
    ]));
  $("warnings").replaceChildren(...[...r.warnings, ...r.llm_notes].map((w) => cell("li", w)));
  const charts = $("charts");
  charts.replaceChildren();
  job.chart_urls.forEach(async (url, i) => {
    const fig = document.createElement("figure");
    const img = document.createElement("img");
    img.alt = r.charts[i];
    fig.append(img, cell("figcaption", r.charts[i].replace(/\.png$/, "").replaceAll("_", " ")));
    charts.appendChild(fig);
    try {
      // fetched (not <img src>) so the bearer token goes along when the server needs one
      const blob = await (await api(url.slice(API.length))).blob();
      img.src = URL.createObjectURL(blob);
    } catch (err) { fig.append(cell("p", err.message)); }
  });
  $("report-link").onclick = async (event) => {
    event.preventDefault();
    const text = await (await api(job.report_url.slice(API.length))).text();
    window.open(URL.createObjectURL(new Blob([text], { type: "text/plain" })), "_blank");
  };
  $("results").hidden = false;
}

function wireDrop() {
  const drop = $("drop");
  ["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.remove("over");
  }));
  drop.addEventListener("drop", (e) => {
    const file = e.dataTransfer && e.dataTransfer.files[0];
    if (file) sendFile(file);
  });
  drop.addEventListener("click", (e) => { if (e.target === drop) $("file").click(); });
  $("file").addEventListener("change", () => {
    if ($("file").files[0]) sendFile($("file").files[0]);
    $("file").value = "";
  });
}

async function checkToken() {
  // providers needs the token when the server has one: a 401 here shows the token field.
  const response = await fetch(`${API}/providers`, { headers: headers() }).catch(() => null);
  const needed = Boolean(response && response.status === 401);
  if (needed) $("token-box").hidden = false;
  return needed;
}

document.addEventListener("DOMContentLoaded", () => {
  wireDrop();
  $("options").addEventListener("submit", startAnalysis);
  $("token").value = token();
  $("save-token").addEventListener("click", () => {
    sessionStorage.setItem("apiToken", $("token").value.trim());
    showError("");
    checkToken().then((stillNeeded) => {
      if (stillNeeded) showError("That token was not accepted.");
      else $("token-box").hidden = true;
    });
  });
  checkToken();
});
